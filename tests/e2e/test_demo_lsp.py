"""`infiagent demo --lsp` followed step by step, as printed, by a real LSP client
(pytest-lsp) driving the built `infiagent lsp`: plan, build, the judge's rejection
as an Error diagnostic on the script, its quick fix, and the repair that clears it."""

import asyncio
import pathlib
import re
import subprocess

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import BINARY
from test_lsp import run_command, start_session, wait_for_end


class DemoSteps:
    """What `infiagent demo --lsp` printed: the folder, the code action titles of
    its steps, and the diagnostic it says the build leaves."""

    def __init__(self, folder: pathlib.Path, text: str):
        self.folder = folder
        self.text = text
        self.titles = re.findall(r'→ "([^"]+)"', text)
        lines = text.splitlines()
        at = next(index for index, line in enumerate(lines) if "has an error from infiagent (Problems" in line)
        self.line = int(re.search(r"line (\d+) has an error", lines[at]).group(1))
        self.message = lines[at + 1].strip()


@pytest.fixture
def demo(tmp_path):
    """`infiagent demo --lsp DIR`, running until the test ends."""
    folder = tmp_path / "demo"
    process = subprocess.Popen(
        [BINARY, "demo", "--lsp", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("Serving the model until Ctrl-C."):
            break
    else:
        process.kill()
        pytest.fail(f"demo --lsp stopped early: {''.join(printed)}{process.stderr.read()}")
    yield DemoSteps(folder.resolve(), "".join(printed))
    process.terminate()
    process.wait(timeout=5)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BINARY, "lsp"]))
async def client(lsp_client: LanguageClient, demo: DemoSteps):
    # No model settings from the editor: the workspace's configuration, written by
    # `demo --lsp`, names the scripted model and keeps the judge's rejections.
    await start_session(lsp_client, demo.folder)
    yield
    await lsp_client.shutdown_session()


async def code_actions(client: LanguageClient, path: pathlib.Path, diagnostics=(), at=None):
    position = at or types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=position,
            context=types.CodeActionContext(diagnostics=list(diagnostics)),
        )
    )


async def wait_for_diagnostics(client: LanguageClient, uri: str, accept, timeout: float = 10):
    async def published():
        while not accept(client.diagnostics.get(uri, [])):
            await asyncio.sleep(0.05)
        return client.diagnostics[uri]
    return await asyncio.wait_for(published(), timeout)


def titled(actions, title: str):
    found = [action for action in actions if action.title == title]
    assert found, f"no code action {title!r} in {[action.title for action in actions]}"
    return found[0]


@pytest.mark.asyncio
async def test_demo_steps_reject_then_repair(client: LanguageClient, demo: DemoSteps):
    plan_title, build_title, repair_title = demo.titles[:3]
    assert demo.titles[3:6] == demo.titles[:3], "VS Code and Neovim name the same actions"

    # 2. Plan project from this requirement.
    plan = titled(await code_actions(client, demo.folder / "requirement.md"), plan_title)
    run_id = await run_command(client, plan.command.command, plan.command.arguments[0])
    message = await wait_for_end(client, run_id)
    assert message.startswith("project_planner_agent succeeded"), message

    # 3. Build numstats.py from this design: the judge rejects the script.
    design = demo.folder / "project_designs" / "project_design_numstats.md"
    build = titled(await code_actions(client, design), build_title)
    run_id = await run_command(client, build.command.command, build.command.arguments[0])
    message = await wait_for_end(client, run_id)
    assert message.startswith("code_builder_agent ended with an error: the judge rejected the output"), message

    # 4. The rejection is an Error diagnostic on the line the steps name.
    script = demo.folder / "numstats.py"
    diagnostics = await wait_for_diagnostics(client, script.as_uri(), lambda found: found)
    assert len(diagnostics) == 1, diagnostics
    rejection = diagnostics[0]
    assert rejection.severity == types.DiagnosticSeverity.Error
    assert rejection.source == "infiagent"
    assert rejection.range.start.line == demo.line - 1
    assert rejection.message == demo.message
    assert "`mean` must raise `ValueError" in rejection.message
    # The judge was right: the script passes its self-test but not its design.
    check = subprocess.run(["python3", "-c", "import numstats; numstats.mean([])"], cwd=demo.folder,
                           capture_output=True, text=True)
    assert "ZeroDivisionError" in check.stderr, check.stderr

    # 5. The quick fix on that line repairs it; the error clears.
    actions = await code_actions(client, script, diagnostics=[rejection], at=rejection.range)
    repair = titled(actions, repair_title)
    assert repair.kind == types.CodeActionKind.QuickFix
    assert list(repair.diagnostics) == [rejection]
    run_id = await run_command(client, repair.command.command, repair.command.arguments[0])
    message = await wait_for_end(client, run_id)
    assert message.startswith("code_editor_agent succeeded"), message
    # A success is not a problem: the Problems panel is empty, the file's lens says it was judged.
    await wait_for_diagnostics(client, script.as_uri(), lambda found: not found)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=script.as_uri()))
    )
    assert lenses and lenses[0].command.title.startswith("✓ judged: success"), lenses
    check = subprocess.run(["python3", "-c", "import numstats; numstats.mean([])"], cwd=demo.folder,
                           capture_output=True, text=True)
    assert "ValueError: empty list" in check.stderr, check.stderr
    final_states = {status.runId: status.state for status in client.run_statuses}
    assert sorted(final_states.values()) == ["failed", "succeeded", "succeeded"]
