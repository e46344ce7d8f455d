"""Signoff, release and verification of the adapter (DESIGN.md §6–7).

``signoff`` evaluates the release gate (``policies/release.yaml``) on every stage's
report and, only if every check passes, writes ``release/<name>-<version>/``: the PEFT
adapter, a Hugging Face model card, an in-toto/SLSA provenance manifest and an OpenSSF
model-signing signature over all of it. ``verify_bundle`` checks such a bundle;
``release_bundle`` publishes a verified one into a registry directory.
"""

from pipeline.release.evidence import Evidence, EvidenceError, EvidencePaths, load_evidence
from pipeline.release.gate import GateCheck, GateFailed, GateResult, evaluate_gate
from pipeline.release.policy import LoadedReleasePolicy, ReleasePolicy, SignoffParams, load_release_policy
from pipeline.release.registry import ReleaseRefused, release_bundle
from pipeline.release.signing import SignatureError
from pipeline.release.signoff import SignoffResult, signoff
from pipeline.release.verify import VerifyResult, verify_bundle

__all__ = [
    "Evidence", "EvidenceError", "EvidencePaths", "GateCheck", "GateFailed", "GateResult", "LoadedReleasePolicy",
    "ReleasePolicy", "ReleaseRefused", "SignatureError", "SignoffParams", "SignoffResult", "VerifyResult",
    "evaluate_gate", "load_evidence", "load_release_policy", "release_bundle", "signoff", "verify_bundle",
]
