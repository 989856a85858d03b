"""Aider's repo map on the retrieval benchmark's tasks, for the side by side.

Run by `cargo bench -p infiagent-index --bench retrieval` with the Python of a
venv holding aider-chat (see retrieval-trees.sh):

    python retrieval_aider.py ROOT TASKS.json BUDGET CACHE_DIR

TASKS.json is a list of {"task": ..., "gold": ...}. For each task, Aider's
`RepoMap` ranks the tree with the task's words as mentioned identifiers (as
Aider's coder passes them) and no file in the chat, and renders its map within
BUDGET tokens (o200k_base, as ours counts). Prints one JSON line per task: the
gold file's rank in the ranking, whether the map shows it, the share of the
map's tokens spent on it, and the milliseconds the map took.
"""

import json
import os
import re
import sys
import time

import tiktoken
from aider.repomap import RepoMap, find_src_files

ENCODING = tiktoken.get_encoding("o200k_base")


class Model:
    def token_count(self, text):
        return len(ENCODING.encode(text, disallowed_special=()))


class Quiet:
    def read_text(self, path, silent=False):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return None

    def tool_output(self, *args, **kwargs):
        pass

    tool_warning = tool_output
    tool_error = tool_output


def sections(text):
    """The map's text per file: a header line (`path:` or `path`) and the lines under it."""
    by_file = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(("│", "⋮", " ", "\t")):
            current = line[:-1] if line.endswith(":") else line
            by_file.setdefault(current, [])
        elif current is not None:
            by_file[current].append(line)
    return by_file


def main():
    root, tasks_path, budget, cache = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    RepoMap.TAGS_CACHE_DIR = cache
    with open(tasks_path, encoding="utf-8") as handle:
        tasks = json.load(handle)
    repo_map = RepoMap(map_tokens=budget, root=root, main_model=Model(), io=Quiet(), refresh="always")
    files = sorted(find_src_files(root))
    model = Model()
    for task in tasks:
        idents = set(word for word in re.split(r"\W+", task["task"]) if word)
        started = time.perf_counter()
        text = repo_map.get_ranked_tags_map_uncached([], files, budget, set(), idents) or ""
        elapsed = time.perf_counter() - started
        ranked = repo_map.get_ranked_tags([], files, set(), idents)
        order = []
        for tag in ranked:
            if tag[0] not in order:
                order.append(tag[0])
        gold = task["gold"]
        rank = order.index(gold) + 1 if gold in order else None
        shown = sections(text)
        share = 0.0
        if gold in shown and text:
            gold_text = gold + ":\n" + "\n".join(shown[gold])
            share = model.token_count(gold_text) / max(model.token_count(text), 1)
        print(
            json.dumps(
                {"rank": rank, "shown": gold in shown, "share": share, "ms": elapsed * 1e3}
            ),
            flush=True,
        )


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
