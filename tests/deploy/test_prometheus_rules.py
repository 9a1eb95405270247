"""deploy/prometheus/: the alert rules pass `promtool check rules` and their unit tests
(`promtool test rules`), the config `promtool check config`, and every series a rule names is one
the roles export (the names in switchboard/observe.py and the roles' collectors)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
SOURCES = [REPO / "switchboard" / "observe.py", REPO / "streams" / "worker.py", REPO / "sink" / "main.py",
           REPO / "connectors" / "delivery.py", REPO / "connectors" / "edge.py"]


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is not installed: run `make install` (apt-get install -y prometheus)"
    return subprocess.run([binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=30)


def test_the_rules_and_the_config_pass_promtool(tmp_path):
    # promtool opens the metrics token's file: the compose secret's path, here a file of the test's.
    token = tmp_path / "metrics-token"
    token.write_text("scrape-token\n")
    config = (PROMETHEUS / "prometheus.yml").read_text()
    assert config.count("credentials_file: /run/secrets/metrics-token") == 4   # each role's job
    (tmp_path / "prometheus.yml").write_text(config.replace("/run/secrets/metrics-token", str(token)))
    (tmp_path / "rules.yml").write_text((PROMETHEUS / "rules.yml").read_text())
    for args in (("check", "rules", "rules.yml"), ("test", "rules", "rules_test.yml"),
                 ("check", "config", str(tmp_path / "prometheus.yml"))):
        checked = promtool(*args)
        assert checked.returncode == 0, f"promtool {' '.join(args)}:\n{checked.stdout}{checked.stderr}"


def test_promtool_refuses_a_broken_rule(tmp_path):
    broken = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    broken["groups"][0]["rules"][0]["expr"] = "sum by (job (up)"
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(broken))
    checked = promtool("check", "rules", str(tmp_path / "rules.yml"))
    assert checked.returncode != 0 and "parse error" in checked.stdout + checked.stderr


def test_the_alerts_cover_lag_dead_letters_delivery_failures_and_the_service_level():
    rules = {r["alert"]: r["expr"] for g in yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"]
             for r in g["rules"]}
    assert {"SwitchboardConsumerLag", "SwitchboardDeadLettersGrowing", "SwitchboardDeliveryFailureRate",
            "SwitchboardServiceLevelBreach"} <= set(rules)
    exported = "\n".join(path.read_text() for path in SOURCES)
    for alert, expr in rules.items():
        for series in set(re.findall(r"\b(switchboard_[a-z_]+?)(?:_total|_bucket)?\b", expr)):
            assert f'"{series}"' in exported, f"{alert} uses {series}, which no role exports"
    prometheus = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["rules.yml"]
