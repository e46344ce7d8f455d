"""The scan stage: Presidio with Turkish and English recognizers, names, special categories, the audit report."""
