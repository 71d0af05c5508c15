"""Platform-neutral domain of Dutybot: pure functions over frozen values; time is always an argument."""
