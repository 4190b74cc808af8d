"""Watching a rollout: the course's `while curl` loop done right.

`monsterstack rollout watch URL` sends requests at a bounded rate for a bounded time, reads
which version answered each one (the X-Monsterstack-Version header), and shows it live as a
chart of responses per second by version, with errors and timeouts (so Recreate's downtime
shows as a gap). At the end: a summary table, and a plot of share-by-version over time.

- `timeline`: what happened (samples, per-second buckets, gaps, the summary);
- `watch`: the bounded request loop and the live terminal chart;
- `plot`: the share-by-version plot, as SVG (by hand) or PNG (Pillow);
- `command`: the `rollout watch` subcommand.
"""
