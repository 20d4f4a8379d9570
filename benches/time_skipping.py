"""Times the retried transfer on Temporal's time-skipping test server, for side-by-side
comparisons with `cargo bench --bench sim_throughput -- --only retried`.

    python benches/time_skipping.py RUNS [--dev-server HOST:PORT]

Runs MoneyTransfer (`fixtures/temporal-histories/workflows.py`) with a deposit that fails 3
times before it succeeds (retries 1 s, 2 s, 4 s apart: 7 s of workflow time, skipped by the
test server), `RUNS` times on one worker, and prints one line:
`median_us=<median microseconds per run> runs=<n>`.

The test server comes from the `temporalio` package (`pip install temporalio`), which downloads
its executable on first use from temporal.download; offline, point `TEMPORAL_TEST_SERVER` at an
executable downloaded elsewhere. `--dev-server` runs against an already running server instead
(`temporal server start-dev`): no time skipping, so each run takes the 7 s; for checking this
script, not for timing. Exit 2 with a message when the server cannot be started or a run fails.
"""

import asyncio
import logging
import os
import statistics
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "temporal-histories"))
# The recording's activities log each attempt to a file (fsync'd); not while timing. Nor does
# the worker log the deposit's planned failures.
os.environ["TRACE_ATTEMPTS"] = "0"
logging.getLogger("temporalio").setLevel(logging.CRITICAL)


async def timed(runs: int, dev_server: str | None) -> list:
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from activities import deposit, refund, withdraw
    from shared import PaymentDetails
    from workflows import MoneyTransfer

    if dev_server:
        env = WorkflowEnvironment.from_client(await Client.connect(dev_server))
    else:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=os.environ.get("TEMPORAL_TEST_SERVER")
        )
    queue = f"bench-{uuid.uuid4()}"
    times = []
    async with env:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[MoneyTransfer],
            activities=[withdraw, deposit, refund],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            for i in range(runs):
                details = PaymentDetails("A-1", "B-2", 100, f"bench-{i}", deposit_fail_times=3)
                start = time.perf_counter()
                await env.client.execute_workflow(
                    MoneyTransfer.run, details, id=f"bench-{uuid.uuid4()}", task_queue=queue
                )
                times.append(time.perf_counter() - start)
    return times


def main() -> int:
    args = sys.argv[1:]
    dev_server = None
    if "--dev-server" in args:
        i = args.index("--dev-server")
        if i + 1 >= len(args):
            print("time_skipping.py: --dev-server needs HOST:PORT", file=sys.stderr)
            return 2
        dev_server = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
        print("usage: time_skipping.py RUNS [--dev-server HOST:PORT]", file=sys.stderr)
        return 2
    try:
        times = asyncio.run(timed(int(args[0]), dev_server))
    except ImportError as e:
        print(f"time_skipping.py: cannot import temporalio or the workflow: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # the server did not start, or a run failed
        print(f"time_skipping.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    print(f"median_us={statistics.median(times) * 1e6:.1f} runs={len(times)}")
    sys.stdout.flush()
    # Skip interpreter finalisation: the SDK's native threads can abort it after the work is
    # done ("PyGILState_Release ... finalizing"), which would turn a good run into a failure.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
