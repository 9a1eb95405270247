"""`switchboard admin tenant set --language`: the tenant's languages, the ones the detector chooses among."""
from switchboard.admin_cli import _parser, _tenant_changes
from switchboard.directory import TenantBody
from switchboard.settings import Settings


def test_each_language_given_is_the_tenants_and_none_given_changes_nothing():
    parser = _parser(Settings())
    args = parser.parse_args(["tenant", "set", "--tenant", "acme", "--language", "es", "--language", "pt"])
    changes = _tenant_changes(args)
    assert changes == {"languages": ["es", "pt"]} and TenantBody(**changes).languages == ("es", "pt")
    assert "languages" not in _tenant_changes(parser.parse_args(["tenant", "set", "--tenant", "acme", "--name", "A"]))
