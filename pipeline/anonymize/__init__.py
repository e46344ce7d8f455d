"""The anonymize stage: policy, surrogates, erasure, the residual re-scan, the split and the canaries."""
