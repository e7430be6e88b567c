"""The Train area: training settings, start/stop, live curves and the runs table."""
