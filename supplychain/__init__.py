"""Supply-chain checks over the lock file (run by scripts/audit; not shipped in the wheel)."""
