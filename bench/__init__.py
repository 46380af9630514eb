"""Tapewatch benchmarks: ``python -m bench`` (``./dev bench``) generates stores at the requested
scale in a temporary directory, runs every benchmark of issue 8 and prints one table with each
figure's goal and, where it has a floor or a peer, the ratio measured in the same run.

Nothing here is imported by the bot; the modules are one per benchmark (see ``bench.runner``).
"""
