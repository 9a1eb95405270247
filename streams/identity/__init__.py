"""The identity matcher: claimed details (verified phone, volunteered email/phone) link channel
identities to customers, merge customers across channels, and flag ambiguous matches.

`normalize` is the one place details are normalized; `matching` decides (pure); `agent` is the
faust plumbing (see README.md).
"""
