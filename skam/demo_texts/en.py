"""The demo company in English."""

from __future__ import annotations

from skam.demo_texts.base import DemoTexts

TEXTS = DemoTexts(
    language="en",
    people={
        "chair": ("Irina", "Volkova", "CEO, committee chair"),
        "member": ("Pavel", "Smirnov", "Sales director, committee member"),
        "headkam": ("Olga", "Kuznetsova", "Head of the KAM department, committee member"),
        "commercial": ("Sergey", "Lebedev", "Commercial director, committee member"),
        "kam": ("Anna", "Petrova", "Key-account manager"),
        "kam2": ("Dmitry", "Ivanov", "Key-account manager"),
        "kam3": ("Elena", "Sokolova", "Key-account manager"),
        "director": ("Nikolai", "Morozov", "Finance director (dashboards)"),
        "admin": ("Alexei", "Popov", "Administrator"),
    },
    helpers={
        "svc.orlov": ("Maxim", "Orlov"),
        "eng.fedorova": ("Tatiana", "Fedorova"),
        "fin.nikitin": ("Roman", "Nikitin"),
    },
    usps={
        "delivery": (
            "24-hour delivery",
            "Delivery within 24 hours anywhere in the European part of Russia.",
        ),
        "engineer": (
            "On-site service engineer",
            "A certified engineer on the client's site within 48 hours.",
        ),
        "stock": (
            "Deep warehouse stock",
            "20,000 items in stock in Moscow, Yekaterinburg and Novosibirsk.",
        ),
        "engineering": (
            "Custom engineering",
            "Our design bureau adapts equipment to the client's process.",
        ),
        "deferred": ("Deferred payment", "Payment terms up to 90 days for qualified clients."),
        "quality": (
            "Certified quality",
            "ISO 9001 and GOST certification, full traceability of batches.",
        ),
        "warranty": ("Five-year warranty", "Warranty twice the market's usual term."),
        "edi": (
            "EDI integration",
            "Orders, invoices and shipping notices exchanged with the client's ERP.",
        ),
        "consignment": (
            "Consignment stock",
            "Our stock kept at the client's site, paid for as used.",
        ),
        "local": ("Local production", "Made at our own plants in Russia: no import risk."),
        "training": ("Staff training", "Training and certification for the client's operators."),
        "team": ("Dedicated account team", "A named team with a lead KAM for every key account."),
    },
    needs={
        "delivery": "24-hour delivery",
        "engineer": "On-site engineer",
        "stock": "Parts always in stock",
        "engineering": "Equipment adapted to our process",
        "deferred": "Deferred payment",
        "quality": "Certified quality",
        "warranty": "Long warranty",
        "edi": "Electronic document exchange",
        "consignment": "Stock at our site",
        "local": "No import dependence",
        "training": "Operator training",
        "team": "Single point of contact",
        "price": "Lowest price",
        "siberia": "Same-day delivery in Siberia",
        "leasing": "Financing through leasing",
    },
    industries=(
        "Metallurgy",
        "Oil and gas",
        "Chemicals",
        "Food processing",
        "Construction",
        "Automotive",
        "Energy",
        "Mining",
        "Pulp and paper",
        "Machine building",
    ),
    regions=(
        "Moscow",
        "Saint Petersburg",
        "Yekaterinburg",
        "Kazan",
        "Novosibirsk",
        "Nizhny Novgorod",
        "Samara",
        "Chelyabinsk",
        "Perm",
        "Krasnoyarsk",
    ),
    name_stems=(
        "Volga",
        "Ural",
        "Baltic",
        "Siberia",
        "Kama",
        "Don",
        "Neva",
        "Altai",
        "Oka",
        "Angara",
        "Severny",
        "Yuzhny",
        "Vostok",
        "Zapad",
        "Ladoga",
        "Irtysh",
        "Sayan",
        "Taiga",
        "Onega",
        "Yenisei",
    ),
    name_trades=(
        "Steel Works",
        "Chemical Plant",
        "Machinery",
        "Foods",
        "Energy",
        "Mining Company",
        "Paper Mill",
        "Construction Group",
        "Auto Components",
        "Refinery",
    ),
    legal_forms=("LLC", "JSC", "PJSC"),
    client_name=lambda stem, trade, form: f"{stem} {trade} {form}",
    situations={
        "quality": (
            "Quality failure at a key client",
            "Call the client's quality lead within the hour. Quarantine the batch, send the "
            "quality engineer, agree on replacement or credit within a day. Report the root "
            "cause in a week.",
        ),
        "payment": (
            "Payment default",
            "Stop new shipments on credit, call the client's finance director, agree on a "
            "schedule; past 30 days, legal takes over.",
        ),
        "competitor": (
            "Competitor attack on a key account",
            "Head of KAM meets the client within three days; the committee decides on any "
            "response past the mandate.",
        ),
        "crisis": (
            "Client crisis (ownership change, bankruptcy risk)",
            "Freeze credit past the current order, meet the new owners, review key status at "
            "the next committee session.",
        ),
    },
    relationship_methods=(
        "Executive sponsor",
        "Quarterly business review",
        "Joint planning",
        "Supplier day at the client's site",
    ),
    kpis={
        "revenue": "Revenue of the accounts",
        "gross-margin": "Gross margin",
        "growth": "Revenue growth, %",
        "key-share": "Key clients' share of sales, %",
        "key-coverage": "Coverage of key clients, %",
        "exceptions": "Exceptions granted",
        "breaches": "Department obligations breached",
        "budget-used": "Budget used, %",
        "satisfaction": "Client satisfaction (survey), %",
    },
    obligations={
        "shipment": "Urgent shipment for a key client",
        "credit": "Credit decision on a key client's order",
    },
    say={
        "incident_quality": (
            "The client found leaking seals in Tuesday's delivery; their line is down."
        ),
        "incident_competitor": "A competitor offers 15 % below our price with a two-year lock-in.",
        "incident_competitor_taken": "Meeting set for Thursday.",
        "incident_payment": "The October invoice is 20 days overdue.",
        "incident_payment_resolution": (
            "Schedule agreed: paid in two parts, the second on the 15th."
        ),
        "absence_note": "Annual leave",
        "webhook_endpoint": "CRM (the demo's receiver)",
        "ruler_title": "Key-client ruler 2026",
        "ruler_draft_title": "Raise the bar to 80 %",
        "mandate_title": "Key accounts of {kam}",
        "mandate_team_role": "Service manager",
        "mandate_proposal_title": "Mandate for {kam}",
        "mandate_proposal_rationale": "Limits in line with the policy; accounts as decided.",
        "spending": "Quarterly business review at the client's site",
        "department_answered": "Two pallets of seals by Friday",
        "department_overdue": "Raise the credit line for the winter order",
        "exception_justification": "A three-year supply contract against a competitor's offer.",
        "exception_comment": "Once.",
        "first_mandate": "{title} (first mandate)",
        "survey_note": "Quarterly survey of the account teams' contacts",
        "meeting_title": "Strategic committee, quarterly session",
        "meeting_location": "Board room",
        "interest": "Sat on the client's supervisory board until last year.",
        "policy_title": "Key-account policy 2026",
        "policy_proposal_title": "Adopt the key-account policy 2026",
        "policy_proposal_rationale": "Twelve to twenty-five key clients carrying a third of sales.",
        "grant_rationale": "Covered by our USPs and worth the investment over the horizon.",
        "open_grant_rationale": "Meets the ruler; the KAM asks for a dedicated team.",
        "open_bet_rationale": (
            "Below the threshold today; a new plant next year needs what we make."
        ),
    },
)
