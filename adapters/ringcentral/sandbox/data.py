# SPDX-License-Identifier: MIT
"""Demo people and conversation scripts for the sandbox account.

People come from ``resources/sandbox/contacts.json`` (shared with the Local CRM's demo seed).
Conversations are small scripts per topic; :func:`render_insights` turns one into a RingSense
``RecordingInsights`` body with a diarized transcript whose speaker ids are the call's party ids.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from typing import Any

from resources import read_text


@dataclass(frozen=True)
class Person:
    """Someone the agent talks to: an outside contact, an unknown caller or a colleague."""

    name: str | None
    phone_number: str | None
    location: str | None = None
    company: str | None = None
    extension_number: str | None = None
    extension_id: str | None = None

    @property
    def first_name(self) -> str:
        return (self.name or "there").split()[0]


@dataclass(frozen=True)
class People:
    account_id: str
    main_number: str
    company: str
    agent: Person
    agent_email: str
    colleagues: tuple[Person, ...]
    contacts: tuple[Person, ...]
    unknown: tuple[Person, ...]


@cache
def load_people() -> People:
    """The demo people from ``resources/sandbox/contacts.json``."""
    raw = json.loads(read_text("sandbox", "contacts.json"))
    a = raw["agent"]
    agent = Person(
        name=a["name"],
        phone_number=a["phoneNumber"],
        extension_number=a["extensionNumber"],
        extension_id=a["extensionId"],
        company=raw["account"]["companyName"],
    )
    colleagues = tuple(
        Person(name=c["name"], phone_number=None, extension_number=c["extensionNumber"], extension_id=c["extensionId"])
        for c in raw["colleagues"]
    )
    contacts = tuple(
        Person(
            name=f"{c['firstName']} {c['lastName']}",
            phone_number=c["phoneNumber"],
            location=c.get("city"),
            company=c.get("company"),
        )
        for c in raw["contacts"]
    )
    unknown = tuple(
        Person(name=None, phone_number=u["phoneNumber"], location=u.get("location")) for u in raw["unknownCallers"]
    )
    return People(
        account_id=raw["account"]["id"],
        main_number=raw["account"]["mainNumber"],
        company=raw["account"]["companyName"],
        agent=agent,
        agent_email=a["email"],
        colleagues=colleagues,
        contacts=contacts,
        unknown=unknown,
    )


# Each line: (speaker, text). "A" is the agent, "C" the caller, "T" the colleague a call was
# transferred to. {c} is the caller's first name, {a} the agent's, {co} the caller's company,
# {t} the colleague's first name.
_TOPICS: dict[str, dict[str, Any]] = {
    "billing": {
        "title": "Billing question about a duplicate charge",
        "script": [
            ("A", "Thanks for calling Brightline Outfitters, this is {a}. How can I help?"),
            ("C", "Hi {a}, it's {c} from {co}. I think we were charged twice for last month's order."),
            ("A", "I'm sorry about that. Let me pull up the account. Do you have the invoice number?"),
            ("C", "Yes, it's INV 20 48 71. Both charges show on the card statement from the 3rd."),
            ("A", "I see it. The second charge is a duplicate authorisation that should have dropped off."),
            ("C", "It hasn't, though. It's been almost two weeks."),
            ("A", "Understood. I'll file a refund today; it takes three to five business days to appear."),
            ("C", "Okay. Can you email me a confirmation?"),
            ("A", "Of course. You'll get it within the hour, and I'll follow up on Friday to make sure it posted."),
            ("C", "Great, thank you."),
        ],
        "summary": "{c} from {co} reported a duplicate charge on invoice INV-204871. {a} confirmed the duplicate "
        "and filed a refund, expected in three to five business days.",
        "highlights": [("C", "Both charges show on the card statement from the 3rd.")],
        "next_steps": [("A", "Email the refund confirmation to {c} within the hour."), ("A", "Follow up on Friday.")],
        "bullets": ["Duplicate charge on INV-204871 confirmed", "Refund filed; 3–5 business days", "Follow-up Friday"],
        "sentiment": "Neutral",
        "score": "8",
    },
    "renewal": {
        "title": "Annual plan renewal and upgrade",
        "script": [
            ("A", "Hi {c}, it's {a} from Brightline. I'm calling about your plan renewal next month."),
            ("C", "Oh good timing, we were just talking about adding more seats."),
            ("A", "How many people are you thinking of adding?"),
            ("C", "Probably eight, maybe ten by the summer."),
            ("A", "At that size the Team plan is cheaper per seat, and it includes priority support."),
            ("C", "What would the annual price come to?"),
            ("A", "For twenty seats it's just under nine thousand, with two months free if you renew early."),
            ("C", "That sounds reasonable. Send me a quote and I'll run it past our finance lead."),
            ("A", "Will do. I'll have it to you by end of day tomorrow."),
        ],
        "summary": "{c} ({co}) plans to add 8–10 seats. {a} proposed the Team plan with an early-renewal "
        "discount; {c} asked for a written quote to share with finance.",
        "highlights": [("C", "Probably eight, maybe ten by the summer.")],
        "next_steps": [("A", "Send a Team plan quote for twenty seats by end of day tomorrow.")],
        "bullets": ["Wants 8–10 more seats", "Team plan proposed with early-renewal discount", "Quote requested"],
        "sentiment": "Positive",
        "score": "9",
    },
    "delivery": {
        "title": "Late delivery complaint",
        "script": [
            ("A", "Brightline Outfitters, {a} speaking."),
            ("C", "Hi, this is {c}. Our order was supposed to arrive Monday and it still isn't here."),
            ("A", "I'm sorry to hear that. Let me check the tracking for you."),
            ("C", "We have an event on Saturday, so this is getting urgent."),
            ("A", "The carrier shows it held at the regional depot because of a missing suite number."),
            ("C", "That's frustrating, the suite number was on the order form."),
            ("A", "You're right, it was dropped on the label. I'll correct it and request a Thursday delivery."),
            ("C", "Thursday works if it really arrives Thursday."),
            ("A", "I'll mark it priority and call you Wednesday afternoon with confirmation."),
        ],
        "summary": "{c}'s order is held at the carrier's depot because the suite number was missing from the "
        "label. {a} corrected the address and requested priority delivery for Thursday.",
        "highlights": [("C", "We have an event on Saturday, so this is getting urgent.")],
        "next_steps": [
            ("A", "Correct the shipping label and request Thursday delivery."),
            ("A", "Call {c} Wednesday."),
        ],
        "bullets": ["Order held at depot: suite number missing", "Address corrected", "Thursday delivery requested"],
        "sentiment": "Negative",
        "score": "7",
    },
    "support": {
        "title": "Login problem on the ordering portal",
        "script": [
            ("C", "Hi, I can't log in to the ordering portal since this morning."),
            ("A", "Let's sort that out. Are you getting an error message?"),
            ("C", "It says my password expired, but the reset email never arrives."),
            ("A", "I see the reset emails bouncing. The address on file has a typo."),
            ("C", "Ah, that explains it. It should be {e}."),
            ("A", "Updated. I've sent a new reset link, can you check now?"),
            ("C", "Got it. Okay, I'm in. Thanks!"),
            ("A", "Glad that worked. Anything else I can help with?"),
            ("C", "No, that's all. Thanks {a}."),
        ],
        "summary": "{c} could not log in because password-reset emails bounced off a mistyped address. {a} "
        "corrected the email and sent a new reset link; {c} confirmed access.",
        "highlights": [("A", "I see the reset emails bouncing. The address on file has a typo.")],
        "next_steps": [],
        "bullets": ["Reset emails bounced: typo in address", "Email corrected", "Access restored on the call"],
        "sentiment": "Positive",
        "score": "9",
    },
    "quote": {
        "title": "New customer asking for a quote",
        "script": [
            ("C", "Hello, I found you online. We're looking for a supplier for our new location."),
            ("A", "Welcome! What kind of volume are you expecting?"),
            ("C", "About two hundred units a month to start, with deliveries every two weeks."),
            ("A", "We can do that. Do you need installation as well, or just delivery?"),
            ("C", "Just delivery. And we'd want net thirty payment terms."),
            ("A", "Net thirty is standard for accounts after a credit check, which takes a day."),
            ("C", "Fine. Can you send me the application and a price sheet?"),
            ("A", "Sending both now. I'll call you Thursday to walk through the pricing."),
        ],
        "summary": "Prospect {c} ({co}) needs about 200 units a month with fortnightly delivery and net-30 terms. "
        "{a} sent a credit application and price sheet.",
        "highlights": [("C", "About two hundred units a month to start, with deliveries every two weeks.")],
        "next_steps": [("A", "Call {c} on Thursday to go through pricing.")],
        "bullets": ["~200 units/month, biweekly delivery", "Net-30 after credit check", "Price sheet sent"],
        "sentiment": "Positive",
        "score": "8",
    },
}

_TRANSFER_TAIL = [
    ("A", "Let me bring in {t}, who handles this directly. One moment."),
    ("T", "Hi {c}, this is {t}. I've read the notes; I can take it from here."),
    ("C", "Thanks, I appreciate it."),
]

TOPICS: tuple[str, ...] = tuple(_TOPICS)


def pick_topic(rng: random.Random) -> str:
    return rng.choice(TOPICS)


def render_insights(
    *,
    topic: str,
    recording_id: str,
    telephony_session_id: str,
    owner_extension_id: str,
    account_id: str,
    direction: str,
    agent: Person,
    caller: Person,
    colleague: Person | None,
    recording_start: str,
    duration_s: int,
    created: str,
    rs_record_uri: str,
    part: str = "whole",
) -> dict[str, Any]:
    """A RingSense ``RecordingInsights`` body for one recording of a call.

    Speaker ids are ``p-<session>-1`` (the agent), ``-2`` (the caller) and ``-3`` (the colleague
    a transferred call went to), matching the call's party ids.

    Args:
        part: ``whole``; or for a transferred call with a recording per leg, ``first`` (the agent
            and the caller, up to the hand-over) or ``second`` (the colleague and the caller).
    """
    spec = _TOPICS[topic]
    base = telephony_session_id.removeprefix("s-")
    ids = {"A": f"p-{base}-1", "C": f"p-{base}-2", "T": f"p-{base}-3"}
    fill = {
        "a": agent.first_name,
        "c": caller.first_name if caller.name else "there",
        "co": caller.company or "their company",
        "t": colleague.first_name if colleague else "a colleague",
        "e": f"{caller.first_name.lower()}@example.com",
    }
    script: list[tuple[str, str]] = list(spec["script"])
    # Who says the agent's lines: the colleague takes over in the second leg of a transfer.
    role = {"A": "A", "C": "C", "T": "T"}
    if colleague is not None and part == "first":
        script = script[:5] + _TRANSFER_TAIL[:1]
    elif colleague is not None and part == "second":
        script = _TRANSFER_TAIL[1:] + script[5:]
        role["A"] = "T"
    elif colleague is not None:
        script = script[:5] + _TRANSFER_TAIL + script[5:]
    script = [(role[who], text) for who, text in script]
    # Spread the lines over the recording; each takes time proportional to its length.
    total_chars = sum(len(text) for _, text in script) or 1
    span = max(10.0, float(duration_s) - 2.0)
    t = 1.0
    transcript: list[dict[str, Any]] = []
    for who, text in script:
        said = text.format(**fill)
        length = span * len(text) / total_chars
        transcript.append(
            {"speakerId": ids[who], "text": said, "start": round(t, 2), "end": round(t + length * 0.9, 2)}
        )
        t += length

    def at(line_text: str) -> tuple[float, float]:
        for entry in transcript:
            if entry["text"] == line_text:
                return float(entry["start"]), float(entry["end"])
        return 0.0, 1.0

    def placed(items: list[tuple[str, str]]) -> list[dict[str, Any]]:
        out = []
        for who, text in items:
            said = text.format(**fill)
            start, end = at(said)
            out.append({"speakerId": ids[role[who]], "start": start, "end": end, "value": said})
        return out

    speakers = [
        {"speakerId": ids["A"], "name": agent.name, "accountId": account_id, "extensionId": agent.extension_id},
        {"speakerId": ids["C"], "name": caller.name, "accountId": None, "extensionId": None},
    ]
    if part == "second":
        speakers = speakers[1:]
    if colleague is not None and part != "first":
        speakers.append(
            {
                "speakerId": ids["T"],
                "name": colleague.name,
                "accountId": account_id,
                "extensionId": colleague.extension_id,
            }
        )
    summary = spec["summary"].format(**fill)
    call_notes = "\n".join(b for b in spec["bullets"])
    caller_label = caller.name or caller.phone_number or "Unknown caller"
    title = (
        f"Call from {caller_label} to {agent.name}"
        if direction == "Inbound"
        else f"Call from {agent.name} to {caller_label}"
    )
    return {
        "title": f"{title}: {spec['title']}",
        "rsRecordUri": rs_record_uri,
        "domain": "pbx",
        "sourceSessionId": telephony_session_id,
        "sourceRecordId": recording_id,
        "callDirection": direction,
        "ownerExtensionId": owner_extension_id,
        "recordingDurationMs": duration_s * 1000,
        "recordingStartTime": recording_start,
        "creationTime": created,
        "lastModifiedTime": created,
        "speakerInfo": speakers,
        "insights": {
            "Transcript": transcript,
            "Summary": [{"start": 0, "end": 1, "value": summary}],
            "Highlights": placed(spec["highlights"]),
            "NextSteps": placed(spec["next_steps"]),
            "BulletedSummary": [{"value": b} for b in spec["bullets"]],
            "AIScore": [{"value": spec["score"]}],
            "Sentiment": [{"value": spec["sentiment"]}],
            "CallNotes": [{"value": call_notes}],
        },
    }


@cache
def wav_bytes(seconds: int, rate: int = 8000) -> bytes:
    """A small real WAV file (8-bit mono PCM): a soft two-tone hum, ``seconds`` long."""
    import math
    import struct

    n = seconds * rate
    samples = bytes(
        int(128 + 40 * math.sin(2 * math.pi * 330 * i / rate) + 20 * math.sin(2 * math.pi * 440 * i / rate))
        for i in range(n)
    )
    header = b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    data = b"data" + struct.pack("<I", n) + samples
    return header + fmt + data
