"""The account stage through the real broker: tier holds released by a raised tier, templates
refused before delivery sees them, LINE's exhausted quota (one worker, the real tier ladder)."""
import pytest

from .broker import Portfolio, account_worker
from .factory import record

pytestmark = pytest.mark.kafka
FAST = "109876543210989"


def test_tier_holds_the_251st_customer_until_the_tier_rises_and_refuses_bad_templates(kafka_bootstrap, tmp_path):
    worker = account_worker(kafka_bootstrap, tmp_path, "accounts").start()
    p = Portfolio(kafka_bootstrap)
    try:
        p.event("templates_synced")
        p.reader.wait_for(lambda r: p.of(r, "policy-views"), timeout=30)   # the catalogue is applied
        customers = p.templates(range(251), account=FAST)   # 1,000 msg/s: the tier, not the pace, holds
        bad = [p.mine(record("outbound_template", outbound_id="out-paused",
                             template={"name": "winter_sale", "language": "en_US", "category": "marketing",
                                       "parameters": ["Maria"]})),
               p.mine(record("outbound_template", outbound_id="out-params",
                             template={"name": "card_delivery_update", "language": "en_US", "category": "utility",
                                       "parameters": ["Maria"]})),
               ]
        line = p.mine(record("outbound_line_push"))   # the account's monthly_quota is 0
        p.produce("outbound-checks", customers + bad + [line])
        records = p.reader.wait_for(lambda r: len(p.verdicts(r)) >= 254, timeout=30)
        verdicts = p.verdicts(records)
        assert sorted(v for o, v in verdicts.items() if o.startswith("out-") and o[4:].isdigit()) == \
            ["approved"] * 250 + ["held"]
        [held_id] = [o for o, v in verdicts.items() if v == "held"]
        assert verdicts["out-paused"] == "rejected:template.not_approved"
        assert verdicts["out-params"] == "rejected:template.parameters"
        assert verdicts[line["outbound_id"]] == "rejected:quota.line_monthly"
        [status] = [v for v in p.of(records, "delivery-status") if v["status"] == "held"]
        assert status["hold_reason"] == "tier TIER_250: 250 unique customers in 24 h" and status["hold_until"]

        p.event("quality_update")   # TIER_2K: released at once
        records = p.reader.wait_for(lambda r: p.verdicts(r)[held_id] == "approved", timeout=30)
        approved = {v["outbound_id"] for v in p.of(records, "outbound-approved")}
        assert not approved & {"out-paused", "out-params", line["outbound_id"]}   # deliver never sees them
        assert len(approved) == 251
        failed = {v["outbound_id"]: v["error_code"] for v in p.of(records, "delivery-status") if v["status"] == "failed"}
        assert failed == {"out-paused": "template.not_approved", "out-params": "template.parameters",
                          line["outbound_id"]: "quota.line_monthly"}
    finally:
        worker.stop()
        p.reader.close()
