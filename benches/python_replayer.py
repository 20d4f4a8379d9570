"""Times Temporal's Python replayer on one recorded history, for side-by-side comparisons.

Used by `cargo bench -p sim --bench replay` (which runs it between its own rounds), or alone:

    python benches/python_replayer.py fixtures/temporal-histories/transfer-completed.json 50

Reads the history (Temporal's JSON export) and replays it `runs` times against the
MoneyTransfer workflow that recorded it (`fixtures/temporal-histories/workflows.py`), parsing the
JSON each time, in batches of 20 through one replay worker (`Replayer.replay_workflows`, the
replayer's fastest use: its worker start-up is shared by the batch). Prints one line:
`median_us=<median microseconds per parse+replay over the batches> runs=<n>`.
Needs the `temporalio` package (`pip install temporalio`); exit 2 with a message when it is
missing or the history does not replay.
"""

import asyncio
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "temporal-histories"))


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: python_replayer.py HISTORY.json RUNS", file=sys.stderr)
        return 2
    path, runs = sys.argv[1], int(sys.argv[2])
    try:
        from temporalio.client import WorkflowHistory
        from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
        from workflows import MoneyTransfer  # noqa: E402
    except ImportError as e:
        print(f"python_replayer.py: cannot import temporalio or the workflow: {e}", file=sys.stderr)
        return 2
    with open(path, encoding="utf-8") as f:
        text = f.read()

    async def timed() -> list:
        # One replay worker for a batch of histories (`replay_workflows`), as the replayer is
        # meant to be used on many histories: its start-up is not counted per history.
        # Unsandboxed: the sandbox re-imports the workflow's modules per run, ~10x slower; the
        # comparison is against the replayer at its fastest.
        replayer = Replayer(
            workflows=[MoneyTransfer], workflow_runner=UnsandboxedWorkflowRunner()
        )
        times = []
        batch = 20
        for _ in range(max(1, runs // batch)):
            start = time.perf_counter()

            async def histories():
                for i in range(batch):
                    yield WorkflowHistory.from_json(f"bench-{i}", text)

            results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
            times.append((time.perf_counter() - start) / batch)
            for failure in results.replay_failures.values():
                raise RuntimeError(f"{path} does not replay: {failure}")
        return times

    try:
        times = asyncio.run(timed())
    except RuntimeError as e:
        print(f"python_replayer.py: {e}", file=sys.stderr)
        return 2
    print(f"median_us={statistics.median(times) * 1e6:.1f} runs={runs}")
    sys.stdout.flush()
    # Skip interpreter finalisation: the SDK's native threads can abort it after the work is
    # done ("PyGILState_Release ... finalizing"), which would turn a good run into a failure.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
