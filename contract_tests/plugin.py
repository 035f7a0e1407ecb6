"""pytest plugin (filled by the contract-tests work)."""
