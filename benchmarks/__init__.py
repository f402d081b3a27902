"""Taskmaster against its peers, side by side, in one process run.

``python -m benchmarks`` (or ``tox -e bench``) measures the workloads of
:mod:`benchmarks.workloads` for every Taskmaster setup, every installed peer
(``concurrent.futures.ProcessPoolExecutor``, ``multiprocessing.Pool``, loky,
pebble, mpire) and the raw socket baselines, round-robin within each round so
that noise on the machine spreads over all of them, and prints one table per
workload with medians and the ratios the performance targets are stated in.

Modules, one concept each:

- :mod:`benchmarks.tasks`: the work itself, as Taskmaster tasks and as plain
  functions for the peers; importable, so spawned workers find it.
- :mod:`benchmarks.setups`: what a pool offers a workload, and the Taskmaster
  setups (fork, process, thread, proxied).
- :mod:`benchmarks.peers`: the same for the other libraries.
- :mod:`benchmarks.baselines`: what a bare socket between processes can do.
- :mod:`benchmarks.workloads`: the workloads, their sizes and their targets.
- :mod:`benchmarks.runner`: rounds, interleaving, leak checks.
- :mod:`benchmarks.report`: the tables.
"""
