"""What operators write about sellers is plain text: control characters in an exemption's or a
decision's reason are refused (422 at the API) before anything is recorded."""

import pytest
from pydantic import ValidationError

from seller_standards.api.bodies import NewExemption, StandingDecision

SPAN = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}


@pytest.mark.parametrize("reason", ["Flood\r\nBcc: x@example.com", "\x1b[2J", "txt\u202eexe"])
def test_an_exemption_reason_is_one_line_of_plain_text(reason):
    with pytest.raises(ValidationError, match="control character"):
        NewExemption.model_validate(SPAN | {"reason": reason})
    assert NewExemption.model_validate(SPAN | {"reason": "Postal strike"}).reason


@pytest.mark.parametrize("reason", ["\x00", "\x1b]8;;http://evil\x07", "late\u2066"])
def test_a_standing_decision_reason_is_plain_text_on_several_lines(reason):
    with pytest.raises(ValidationError, match="control character"):
        StandingDecision.model_validate({"standing": "suspended", "reason": reason})
    decided = StandingDecision.model_validate(
        {"standing": "suspended", "reason": "Fraud report.\n\nConfirmed by the bank."}
    )
    assert decided.reason.count("\n") == 2
