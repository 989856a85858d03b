"""The built `infiagent lsp` over stdio, driven by a real LSP client (pytest-lsp):
plan -> build -> judge, with progress and diagnostics."""

import asyncio
import pathlib
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import BINARY


async def start_session(lsp_client: LanguageClient, folder: pathlib.Path, initialization_options=None):
    """Initializes a session on `folder`, recording `infiagent/runStatus` in
    `lsp_client.run_statuses`."""
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
        ),
        root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="demo")],
        initialization_options=initialization_options,
    )
    # lsprotocol reads any code action that has a `command` as a bare Command
    # (a client-library quirk): tell the two apart by the type of `command`.
    lsp_client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction],
        lambda value, _: lsp_client.protocol._converter.structure(
            value, types.Command if isinstance(value.get("command"), str) else types.CodeAction
        ),
    )
    lsp_client.run_statuses = []

    @lsp_client.feature("infiagent/runStatus")
    def run_status(params):
        lsp_client.run_statuses.append(params)

    await lsp_client.initialize_session(params)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BINARY, "lsp"]))
async def client(lsp_client: LanguageClient, model_base_url, workspace):
    await start_session(
        lsp_client,
        workspace,
        {"model": {"base_url": model_base_url, "name": "scripted"}, "run": {"autonomy": "auto"}},
    )
    yield
    await lsp_client.shutdown_session()


async def run_command(client: LanguageClient, command: str, argument: dict) -> str:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[argument])
    )
    return result["runId"]


async def wait_for_end(client: LanguageClient, run_id: str, timeout: float = 60) -> str:
    token = f"infiagent/run/{run_id}"
    async def ended():
        while True:
            reports = client.progress_reports.get(token, [])
            if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
                return reports[-1].message
            await asyncio.sleep(0.05)
    return await asyncio.wait_for(ended(), timeout)


async def wait_for_diagnostics(client: LanguageClient, uri: str, timeout: float = 10):
    async def published():
        while not client.diagnostics.get(uri):
            await asyncio.sleep(0.05)
        return client.diagnostics[uri]
    return await asyncio.wait_for(published(), timeout)


@pytest.mark.asyncio
async def test_plan_build_judge(client: LanguageClient, workspace: pathlib.Path):
    requirement = (workspace / "requirement.md").as_uri()
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=requirement),
            range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    plan = next(action for action in actions if action.title == "Plan project from this requirement")

    run_id = await run_command(client, plan.command.command, plan.command.arguments[0])
    message = await wait_for_end(client, run_id)
    assert message.startswith("project_planner_agent succeeded"), message
    design = workspace / "project_designs" / "project_design_numstats.md"
    assert design.is_file()
    reports = client.progress_reports[f"infiagent/run/{run_id}"]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert any("judge_agent" in (report.message or "") for report in reports[1:-1])

    run_id = await run_command(client, "infiagent.build", {"uri": design.as_uri()})
    message = await wait_for_end(client, run_id)
    assert message.startswith("code_builder_agent succeeded"), message
    script = workspace / "numstats.py"
    assert script.is_file()
    # The judge's success is a lens on the file, not a diagnostic.
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=script.as_uri()))
    )
    assert lenses and lenses[0].command.title.startswith("✓ judged: success"), lenses
    assert not client.diagnostics.get(script.as_uri())

    broken = workspace / "broken.py"
    broken.write_text("def f():\n    return 1\nraise ValueError('boom')\n")
    run_id = await run_command(client, "infiagent.judge", {"uri": broken.as_uri()})
    message = await wait_for_end(client, run_id)
    assert message.startswith("judge_agent ended with an error"), message
    diagnostics = await wait_for_diagnostics(client, broken.as_uri())
    assert len(diagnostics) == 1
    assert diagnostics[0].severity == types.DiagnosticSeverity.Error
    assert diagnostics[0].range.start.line == 2
    assert "ValueError: boom" in diagnostics[0].message

    runs = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="infiagent.runs", arguments=[])
    )
    assert [run["state"] for run in runs["runs"]] == ["succeeded", "succeeded", "failed"]
    final_states = {status.runId: status.state for status in client.run_statuses}
    assert sorted(final_states.values()) == ["failed", "succeeded", "succeeded"]
