"""The anonymization policy Mahrem ships, for runs outside a project checkout.

``mahrem audit`` without a params.yaml uses :data:`KVKK_POLICY` (package data, so a wheel
install has it). It is a byte-for-byte copy of the project's ``policies/kvkk.yaml`` (the
default of params.yaml ``policy``); tests/test_wheel_install.py keeps the two identical.
"""

from __future__ import annotations

from pathlib import Path

KVKK_POLICY = Path(__file__).resolve().parent / "kvkk.yaml"
