"""Kept only because devstack/tests/test_manifests.py names
`gateway.portal_sessions:PortalSettings`; the portal's settings are `gateway.portal.settings`
(remove this module once that test names them there)."""

from gateway.portal.settings import PortalSettings

__all__ = ["PortalSettings"]
