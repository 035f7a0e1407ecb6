"""Demo accounts: a realistic, deterministic Klaviyo account of any size, as seed resources.

`demo_resources(index, profiles, seed=...)` yields resources in the seed format (`_seed.py`), so the one seed
loader stores them and `kdk seed generate` writes them as a seed file. The same size and seed give the same
resources, byte for byte: every choice comes from one `random.Random(seed)` and every timestamp from a fixed
anchor (`DEMO_UNTIL`), never from the clock. Ids come from the spec's id rules (`mock_server.id_rules`: built
from attributes where the spec builds them, else `seeded`).

What an account holds (counts scale with the number of profiles):
- profiles with names, locations, properties and consent (`subscriptions` for email and SMS);
- metrics and about 10 events per profile spread over the year before `DEMO_UNTIL`, each event's profile and
  metric stored (placed orders name catalog items and carry a value);
- lists and segments whose members follow from the profiles and their events (the newsletter holds the
  email subscribers, "Repeat buyers" the profiles with two orders or more, ...);
- templates; campaigns with their message (email ones sent to the newsletter with a template, one everyday
  campaign in four by SMS to the SMS subscribers; the oldest archived); flows triggered by a list or a metric,
  with their actions and messages (built by the flows backend's `expand_definition`, as `create_flow` does;
  one flow archived); and catalog items.
"""

from __future__ import annotations

import array
import bisect
import datetime as dt
import functools
import itertools
import json
import random
import re
from collections.abc import Iterator
from typing import IO, Any

from mock_server import IdRule, IdRules, account_for_name, id_rules, seeded_id

from ._backends import apply_consent, expand_definition
from ._index import ResourceIndex
from ._seed import apply_seed, forget_unfinished_load
from ._store import Store

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_SIZES",
    "DEMO_UNTIL",
    "DemoSizeError",
    "demo_resources",
    "load_demo",
    "parse_demo_size",
    "write_demo_seed",
]

# The account `kdk mock --demo-data` fills by default: the one the README's examples call with
# `Authorization: Klaviyo-API-Key pk_test` (seed files name accounts the same way).
DEMO_ACCOUNT = "api_key:pk_test"
DEMO_UNTIL = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # the newest event; everything happens before it
DEMO_SIZES = {"small": 50, "1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
EVENTS_PER_PROFILE = 10  # on average
_HISTORY = dt.timedelta(days=365)  # events fall in the year before DEMO_UNTIL
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([km]?)$")


class DemoSizeError(ValueError):
    pass


def parse_demo_size(text: str) -> int:
    """`small`, `1k`, `10k`, `100k`, `1m`, `250k`, `2500` -> the number of profiles."""
    value = str(text).strip().lower().replace("_", "").replace(",", "")
    if value in DEMO_SIZES:
        return DEMO_SIZES[value]
    match = _SIZE.match(value)
    if match:
        count = int(float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)])
        if count >= 1:
            return count
    raise DemoSizeError(
        f"demo size must be one of {', '.join(DEMO_SIZES)} or a number of profiles (e.g. 2500, 250k), not {text!r}"
    )


# -- the material the account is made of ----------------------------------------------------------------------
_FIRST = (  # noqa: SIM905 (a list of names reads best as words)
    "Sarah Liam Olivia Noah Emma Oliver Ava Elijah Sophia Lucas Mia Mason Amelia Ethan Harper Logan "
    "Evelyn James Abigail Aiden Emily Jackson Ella Sebastian Chloe Mateo Grace Henry Aria Leo Zoe Jack "
    "Nora Wyatt Lily Owen"
).split()
_LAST = (  # noqa: SIM905 (a list of names reads best as words)
    "Mason Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez "
    "Clark Lewis Walker"
).split()
_DOMAINS = ("example.com", "example.org", "mail.example.net", "shop.example.com")
# city, region, country, zip, timezone, latitude, longitude, area code
_CITIES = (
    ("Boston", "MA", "United States", "02110", "America/New_York", 42.3601, -71.0589, "617"),
    ("New York", "NY", "United States", "10001", "America/New_York", 40.7128, -74.006, "212"),
    ("San Francisco", "CA", "United States", "94105", "America/Los_Angeles", 37.7749, -122.4194, "415"),
    ("Austin", "TX", "United States", "78701", "America/Chicago", 30.2672, -97.7431, "512"),
    ("Chicago", "IL", "United States", "60601", "America/Chicago", 41.8781, -87.6298, "312"),
    ("Seattle", "WA", "United States", "98101", "America/Los_Angeles", 47.6062, -122.3321, "206"),
    ("Denver", "CO", "United States", "80202", "America/Denver", 39.7392, -104.9903, "303"),
    ("Toronto", "ON", "Canada", "M5H 2N2", "America/Toronto", 43.6532, -79.3832, "416"),
    ("London", "England", "United Kingdom", "EC1A 1BB", "Europe/London", 51.5074, -0.1278, ""),
    ("Sydney", "NSW", "Australia", "2000", "Australia/Sydney", -33.8688, 151.2093, ""),
)
_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Rd", "Elm St", "Pine St", "Lake View Blvd")
_TITLES = ("", "", "", "Marketing Manager", "Engineer", "Designer", "Founder", "Teacher", "Nurse")
_SOURCES = ("Website signup", "Checkout", "Pop-up form", "Instagram", "In-store", "Referral")
_TIERS = ("Bronze", "Silver", "Gold", "Platinum")
# name, integration (name, category), weight (share of events)
_METRICS = (
    ("Received Email", ("Klaviyo", "Internal"), 24),
    ("Opened Email", ("Klaviyo", "Internal"), 18),
    ("Clicked Email", ("Klaviyo", "Internal"), 7),
    ("Active on Site", ("API", "API"), 15),
    ("Viewed Product", ("API", "API"), 17),
    ("Added to Cart", ("Shopify", "eCommerce"), 8),
    ("Started Checkout", ("Shopify", "eCommerce"), 6),
    ("Placed Order", ("Shopify", "eCommerce"), 5),
)
_EMAIL_METRICS = ("Received Email", "Opened Email", "Clicked Email")
_PRODUCTS = (
    ("Classic Tee", 24.0), ("Linen Shirt", 58.0), ("Everyday Hoodie", 64.0), ("Trail Runner", 119.0),
    ("Canvas Tote", 29.0), ("Wool Beanie", 22.0), ("Rain Jacket", 149.0), ("Denim Jacket", 98.0),
    ("Yoga Mat", 45.0), ("Water Bottle", 18.0), ("Sunglasses", 75.0), ("Leather Belt", 39.0),
)  # fmt: skip
_COLOURS = ("Black", "White", "Navy", "Olive", "Sand", "Rust", "Heather Grey")
_SEASONAL_THEMES = (  # by month, January first
    "New Year Sale", "Valentine's Picks", "Spring Preview", "Spring Sale", "Mother's Day Gifts", "Summer Collection",
    "Summer Sale", "Back to School", "Fall Preview", "Halloween Specials", "Black Friday", "Holiday Gift Guide",
)  # fmt: skip
_EVERGREEN_THEMES = ("New Arrivals", "Back in Stock", "Customer Favourites", "Weekend Flash Sale", "Loyalty Rewards")
_FLOWS = (  # name, trigger type, what triggers it (a list name or a metric name), status
    ("Welcome Series", "Added to List", "Newsletter", "live"),
    ("Abandoned Cart", "Metric", "Added to Cart", "live"),
    ("Browse Abandonment", "Metric", "Viewed Product", "live"),
    ("Post-Purchase Thank You", "Metric", "Placed Order", "live"),
    ("Winback", "Metric", "Placed Order", "manual"),
    ("SMS Welcome", "Added to List", "SMS Subscribers", "draft"),
    ("Holiday Sunset 2024", "Added to List", "Holiday Leads", "draft"),  # archived: a flow retired last year
)
_ARCHIVED_FLOWS = frozenset({"Holiday Sunset 2024"})
_LISTS = (  # name, opt-in process
    ("Newsletter", "double_opt_in"),
    ("SMS Subscribers", "single_opt_in"),
    ("VIP Customers", "single_opt_in"),
    ("Holiday Leads", "single_opt_in"),
    ("Product Launch Waitlist", "double_opt_in"),
)
_SEGMENTS = ("Engaged (last 90 days)", "Repeat buyers", "Never purchased", "Lapsed customers (180 days)")


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


class _Account:
    """The pieces of one demo account, decided up front (small) before the profiles stream through."""

    def __init__(self, index: ResourceIndex, profiles: int, seed: int) -> None:
        self.index = index
        self.ids: IdRules = id_rules(index.spec)
        self._rules: dict[str, IdRule] = {}  # by type (`IdRules.rule` builds a default rule on every call)
        self.profiles = profiles
        self.seed = seed
        self.rng = random.Random(f"kdk-demo:{seed}:{profiles}")
        self.start = DEMO_UNTIL - _HISTORY
        self.metric_ids = {name: self.id("metric", name) for name, _, _ in _METRICS}
        self.metric_weights = list(itertools.accumulate(w for _, _, w in _METRICS))
        self.list_ids = {name: self.id("list", name) for name, _ in _LISTS}
        self.segment_ids = {name: self.id("segment", name) for name in _SEGMENTS}
        self.items = self._catalog_items(max(10, min(500, profiles // 20)))
        self.templates = self._templates()
        self.campaigns = self._campaigns(max(3, min(100, profiles // 100)))
        # Email events name the email campaign sent last before them.
        self.email_campaigns = [c for c in self.campaigns if c["channel"] == "email"]
        self.campaign_times = [c["time"] for c in self.email_campaigns]
        self.flow_ids = {name: self.id("flow", name) for name, _, _, _ in _FLOWS}

    def triggers(self, name: str) -> dict[str, Any]:
        """The `flow-triggers` of the list or metric called `name`: the flows it starts."""
        flows = [{"type": "flow", "id": self.flow_ids[f]} for f, _, trigger, _ in _FLOWS if trigger == name]
        return {"flow-triggers": {"data": flows}}

    def id(self, rtype: str, key: str, attributes: dict[str, Any] | None = None) -> str:
        """The id the spec's rule builds from `attributes`, else a deterministic one of the type's shape."""
        rule = self._rules.get(rtype)
        if rule is None:
            rule = self._rules[rtype] = self.ids.rule(rtype)
        built = rule.build(attributes or {}, {}) if rule.parts else None
        return built or seeded_id(rule.shape, f"kdk-demo:{self.seed}:{rtype}:{key}")

    def when(self, earliest: dt.datetime | None = None) -> dt.datetime:
        low = (earliest or self.start).timestamp()
        return dt.datetime.fromtimestamp(self.rng.uniform(low, DEMO_UNTIL.timestamp()) // 1, dt.UTC)

    # -- the small, fixed part of the account -------------------------------------------------------------
    def _catalog_items(self, count: int) -> list[dict[str, Any]]:
        items = []
        for i in range(count):
            name, price = _PRODUCTS[i % len(_PRODUCTS)]
            colour = _COLOURS[(i // len(_PRODUCTS)) % len(_COLOURS)]
            sku = f"SKU-{i + 1:05d}"
            created = self.start - dt.timedelta(days=30 + i % 300)
            attributes = {
                "external_id": sku,
                "title": f"{name} - {colour}" + (f" #{i // 84 + 1}" if i >= 84 else ""),
                "description": f"Our {name.lower()} in {colour.lower()}.",
                "price": round(price * (1 + (i % 5) * 0.05), 2),
                "url": f"https://shop.example.com/products/{sku.lower()}",
                "image_full_url": f"https://shop.example.com/images/{sku.lower()}.jpg",
                "image_thumbnail_url": f"https://shop.example.com/images/{sku.lower()}-thumb.jpg",
                "images": [f"https://shop.example.com/images/{sku.lower()}.jpg"],
                "custom_metadata": {"colour": colour, "category": name.split()[-1]},
                "published": True,
                "created": _stamp(created),
                "updated": _stamp(created + dt.timedelta(days=7)),
            }
            items.append(
                {"type": "catalog-item", "id": self.id("catalog-item", sku, attributes), "attributes": attributes}
            )
        return items

    def _templates(self) -> list[dict[str, Any]]:
        out = []
        for i, theme in enumerate(("Newsletter", *_EVERGREEN_THEMES)):
            created = self.start - dt.timedelta(days=60 - i)
            html = (
                f"<html><body><h1>{theme}</h1><p>Hi {{{{ first_name|default:'there' }}}},</p>"
                f'<p>Something new for you.</p><a href="https://shop.example.com">Shop now</a></body></html>'
            )
            out.append(
                {
                    "type": "template",
                    "id": self.id("template", theme),
                    "attributes": {
                        "name": f"{theme} template",
                        "editor_type": "CODE",
                        "html": html,
                        "text": f"{theme}: something new for you. https://shop.example.com",
                        "created": _stamp(created),
                        "updated": _stamp(created),
                    },
                }
            )
        return out

    def _campaigns(self, count: int) -> list[dict[str, Any]]:
        step = _HISTORY / count
        campaigns = []
        for i in range(count):
            sent = self.start + step * i + dt.timedelta(hours=10)
            seasonal = i % 3 == 0  # one campaign in three is the month's big one
            theme = _SEASONAL_THEMES[sent.month - 1] if seasonal else _EVERGREEN_THEMES[i % len(_EVERGREEN_THEMES)]
            name = f"{theme} {sent:%b %Y}"
            sms = not seasonal and i % 4 == 1  # one in four of the everyday campaigns goes out by SMS
            campaigns.append(
                {
                    "name": f"{name} (SMS)" if sms else name,
                    "channel": "sms" if sms else "email",
                    "archived": i == 0 and count > 2,  # the oldest, cleaned up since
                    "time": sent,
                    "id": self.id("campaign", f"{i}"),
                    "message": self.id("campaign-message", f"{i}"),
                    "template": self.templates[0 if seasonal else 1 + _EVERGREEN_THEMES.index(theme)]["id"],
                    "subject": f"{theme}: picked for you",
                }
            )
        return campaigns

    def fixed_resources(self) -> Iterator[dict[str, Any]]:
        created = _stamp(self.start - dt.timedelta(days=90))
        for name, (integration, category), _ in _METRICS:
            yield {
                "type": "metric",
                "id": self.metric_ids[name],
                "attributes": {
                    "name": name,
                    "created": created,
                    "updated": created,
                    "integration": {"object": "integration", "name": integration, "category": category},
                },
                "relationships": self.triggers(name),
            }
        yield from self.items
        yield from self.templates
        yield from self._campaign_resources()
        yield from self._flows()

    def _campaign_resources(self) -> Iterator[dict[str, Any]]:
        for c in self.campaigns:
            sent, created = c["time"], c["time"] - dt.timedelta(days=3)
            ref = {"type": "campaign", "id": c["id"]}
            sms = c["channel"] == "sms"
            audience = self.list_ids["SMS Subscribers" if sms else "Newsletter"]
            tracking: dict[str, Any] = {"add_tracking_params": True}
            if not sms:
                tracking |= {"is_tracking_clicks": True, "is_tracking_opens": True}
            yield {
                "type": "campaign",
                "id": c["id"],
                "attributes": {
                    "name": c["name"],
                    "status": "Sent",
                    "archived": c["archived"],
                    "audiences": {"included": [audience], "excluded": []},
                    "send_options": {"use_smart_sending": True},
                    "tracking_options": tracking,
                    "send_strategy": {"method": "static", "datetime": _stamp(sent)},
                    "created_at": _stamp(created),
                    "scheduled_at": _stamp(sent - dt.timedelta(hours=2)),
                    "updated_at": _stamp(sent),
                    "send_time": _stamp(sent),
                },
                "relationships": {"campaign-messages": {"data": [{"type": "campaign-message", "id": c["message"]}]}},
            }
            content: dict[str, Any] = (
                {"body": f"Example Shop: {c['subject']} https://shop.example.com Reply STOP to opt out."}
                if sms
                else {
                    "subject": c["subject"],
                    "preview_text": "Open to see what is new this week.",
                    "from_email": "hello@shop.example.com",
                    "from_label": "Example Shop",
                    "reply_to_email": "support@shop.example.com",
                }
            )
            relationships: dict[str, Any] = {"campaign": {"data": ref}}
            if not sms:
                relationships["template"] = {"data": {"type": "template", "id": c["template"]}}
            yield {
                "type": "campaign-message",
                "id": c["message"],
                "attributes": {
                    "definition": {"channel": c["channel"], "label": c["name"], "content": content},
                    "created_at": _stamp(created),
                    "updated_at": _stamp(sent),
                },
                "relationships": relationships,
            }

    def _flows(self) -> Iterator[dict[str, Any]]:
        for i, (name, trigger, source, status) in enumerate(_FLOWS):
            created = self.start - dt.timedelta(days=120 - 10 * i)
            flow: dict[str, Any] = {
                "type": "flow",
                "id": self.flow_ids[name],
                "attributes": {
                    "name": name,
                    "status": status,
                    "archived": name in _ARCHIVED_FLOWS,
                    "trigger_type": trigger,
                    "created": _stamp(created),
                    "updated": _stamp(created + dt.timedelta(days=14)),
                    "definition": self._flow_definition(name, trigger, source),
                },
            }
            # The flows backend's own expansion (create_flow's): actions and messages as resources, with ids
            # made from the flow's name so every run builds the same account.
            made = expand_definition(
                flow,
                functools.partial(self._flow_part_id, "flow-action", name),
                functools.partial(self._flow_part_id, "flow-message", name),
                flow["attributes"]["created"],
                self.index.types,
            )
            yield from made
            yield flow

    def _flow_part_id(self, rtype: str, flow: str, key: str) -> str:
        return self.id(rtype, f"{flow}:{key}")

    def _flow_definition(self, name: str, trigger: str, source: str) -> dict[str, Any]:
        """A `create_flow` definition: a welcome or reminder message, after a delay for metric-triggered flows."""
        if trigger == "Metric":
            triggers = [{"type": "metric", "id": self.metric_ids[source]}]
        else:
            triggers = [{"type": "list", "id": self.list_ids[source]}]
        if source == "SMS Subscribers":
            send = {
                "type": "send-sms",
                "data": {"message": {"name": f"{name} SMS", "body": "Welcome to Example Shop! Reply STOP to opt out."}},
            }
        else:
            email = {
                "name": f"{name} email",
                "from_email": "hello@shop.example.com",
                "from_label": "Example Shop",
                "subject_line": f"{name}: a note from Example Shop",
                "preview_text": "",
                "template_id": self.templates[0]["id"],
                "smart_sending_enabled": True,
                "transactional": False,
                "add_tracking_params": True,
            }
            send = {"type": "send-email", "data": {"message": email}}
        actions: list[dict[str, Any]] = []
        if trigger == "Metric":
            delay = {"unit": "hours", "value": 4, "timezone": "profile"}
            actions.append({"temporary_id": "wait", "type": "time-delay", "links": {"next": "send"}, "data": delay})
        actions.append({"temporary_id": "send", **send, "links": {"next": None}})
        return {
            "triggers": triggers,
            "profile_filter": None,
            "entry_action_id": actions[0]["temporary_id"],
            "actions": actions,
        }

    # -- profiles and their events, streamed ---------------------------------------------------------------
    def profile(self, i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = self.rng
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        city, region, country, zip_code, timezone, lat, lon, area = rng.choice(_CITIES)
        created = self.when(self.start - _HISTORY)  # customers joined over the two years before DEMO_UNTIL
        pid = self.id("profile", str(i))
        attrs: dict[str, Any] = {
            "email": f"{first}.{last}.{i}@{_DOMAINS[i % len(_DOMAINS)]}".lower(),
            "first_name": first,
            "last_name": last,
            "locale": "en-US" if country == "United States" else "en-GB",
            "title": rng.choice(_TITLES) or None,
            "organization": None,
            "location": {
                "address1": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
                "address2": None,
                "city": city,
                "region": region,
                "country": country,
                "zip": zip_code,
                "timezone": timezone,
                "latitude": round(lat + rng.uniform(-0.05, 0.05), 4),
                "longitude": round(lon + rng.uniform(-0.05, 0.05), 4),
                "ip": f"203.0.113.{i % 254 + 1}",
            },
            "properties": {
                "source": rng.choice(_SOURCES),
                "loyalty_tier": _TIERS[min(3, int(rng.expovariate(1.2)))],
                "favourite_colour": rng.choice(_COLOURS),
            },
            "created": _stamp(created),
        }
        if rng.random() < 0.7:
            attrs["external_id"] = f"cust-{i + 1:07d}"
        if area and rng.random() < 0.6:
            attrs["phone_number"] = f"+1{area}{2_000_000 + i % 8_000_000:07d}"
        joined = _stamp(created)
        # Consent as the subscription jobs would have left it (the consent rules live once, in the backends).
        profile: dict[str, Any] = {"attributes": attrs}
        email_choice = rng.random()
        if email_choice < 0.8:
            action = "subscribe" if email_choice < 0.7 else "unsubscribe"
            apply_consent(profile, action, [("email", "marketing", {"consented_at": joined})], joined)
        if "phone_number" in attrs and rng.random() < 0.5:
            apply_consent(profile, "subscribe", [("sms", "marketing", {"consented_at": joined})], joined)
        events = self.events(pid, created, attrs)
        last_event = events[-1]["attributes"]["datetime"] if events else None
        attrs["last_event_date"] = last_event
        attrs["updated"] = last_event or joined
        attrs["properties"]["orders"] = sum(
            1 for e in events if e["relationships"]["metric"]["data"]["id"] == self.metric_ids["Placed Order"]
        )
        profile = {"type": "profile", "id": pid, "attributes": attrs}
        return profile, events

    def events(self, pid: str, joined: dt.datetime, profile: dict[str, Any]) -> list[dict[str, Any]]:
        rng = self.rng
        count = rng.randint(0, 2 * EVENTS_PER_PROFILE)
        earliest = max(joined, self.start)
        moments = sorted(self.when(earliest) for _ in range(count))
        out = []
        for n, moment in enumerate(moments):
            metric = _METRICS[bisect.bisect_right(self.metric_weights, rng.uniform(0, self.metric_weights[-1]))][0]
            value: float | None = None
            properties: dict[str, Any]
            if metric in _EMAIL_METRICS:
                at = max(0, bisect.bisect_right(self.campaign_times, moment) - 1)
                campaign = self.email_campaigns[at]
                properties = {
                    "Campaign Name": campaign["name"],
                    "Subject": campaign["subject"],
                    "$message": campaign["message"],
                }
            elif metric == "Active on Site":
                properties = {"page": rng.choice(("/", "/collections/new", "/pages/about", "/cart"))}
            else:
                picked = rng.sample(self.items, k=min(len(self.items), 1 + int(rng.expovariate(1.5))))
                names = [item["attributes"]["title"] for item in picked]
                total = round(sum(item["attributes"]["price"] for item in picked), 2)
                properties = {"ItemNames": names, "Items": [item["attributes"]["external_id"] for item in picked]}
                if metric in ("Placed Order", "Started Checkout", "Added to Cart"):
                    value = total
                    properties["$value"] = total
                if metric == "Placed Order":
                    properties["OrderId"] = f"{pid[-6:]}-{n + 1}"
            eid = self.id("event", f"{pid}:{n}")
            out.append(
                {
                    "type": "event",
                    "id": eid,
                    "attributes": {
                        "timestamp": int(moment.timestamp()),
                        "datetime": moment.isoformat(),
                        "uuid": _uuid1_text(rng.getrandbits(128)),
                        "event_properties": properties,
                        # Kept as a tracked event keeps them (for reports and aggregates):
                        "value": value,
                        "value_currency": "USD" if value is not None else None,
                        "unique_id": eid,
                    },
                    "relationships": {
                        "metric": {"data": {"type": "metric", "id": self.metric_ids[metric]}},
                        "profile": {"data": {"type": "profile", "id": pid}},
                    },
                }
            )
        return out


_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (1 << 76)


def _uuid1_text(number: int) -> str:
    """`str(uuid.UUID(int=number, version=1))`, without building the UUID (~10M of them in a 1M account)."""
    text = f"{(number & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def demo_resources(index: ResourceIndex, profiles: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Every resource of a demo account with `profiles` profiles, in the seed format, in an order the seed loader
    can store as it goes (what a resource points at comes first, except list and segment members, whose lists
    and segments come last, once their members are known)."""
    account = _Account(index, profiles, seed)
    yield from account.fixed_resources()
    # Member ids and join times (epoch seconds) only: a reference object each would hold ~200 bytes per
    # membership until the end (1M profiles).
    members: dict[str, _Members] = {name: _Members() for name in (*account.list_ids, *account.segment_ids)}
    recent = (DEMO_UNTIL - dt.timedelta(days=90)).isoformat()  # compared as text with the events' datetimes
    lapsed = (DEMO_UNTIL - dt.timedelta(days=180)).isoformat()
    order_metric = account.metric_ids["Placed Order"]
    engaged = {account.metric_ids[m] for m in ("Opened Email", "Clicked Email", "Active on Site")}
    for i in range(profiles):
        profile, events = account.profile(i)
        yield profile
        yield from events
        attrs, ref = profile["attributes"], profile["id"]
        created = attrs["created"]
        subscriptions = attrs.get("subscriptions") or {}
        orders = [
            e["attributes"]["datetime"] for e in events if e["relationships"]["metric"]["data"]["id"] == order_metric
        ]
        # Each member joined when it qualified: at its consent, its second order, its first recent engagement, ...
        email = (subscriptions.get("email") or {}).get("marketing") or {}
        if email.get("consent") == "SUBSCRIBED":
            members["Newsletter"].add(ref, email.get("consent_timestamp") or created)
        sms = (subscriptions.get("sms") or {}).get("marketing") or {}
        if sms.get("consent") == "SUBSCRIBED":
            members["SMS Subscribers"].add(ref, sms.get("consent_timestamp") or created)
        if attrs["properties"]["loyalty_tier"] in ("Gold", "Platinum"):
            members["VIP Customers"].add(ref, orders[0] if orders else created)
        if i % 10 == 3:
            members["Holiday Leads"].add(ref, created)
        if i % 25 == 7:
            members["Product Launch Waitlist"].add(ref, created)
        engagements = [
            e["attributes"]["datetime"]
            for e in events
            if e["relationships"]["metric"]["data"]["id"] in engaged and e["attributes"]["datetime"] >= recent
        ]
        if engagements:
            members["Engaged (last 90 days)"].add(ref, min(engagements))
        if len(orders) >= 2:
            members["Repeat buyers"].add(ref, orders[1])
        if not orders:
            members["Never purchased"].add(ref, created)
        elif orders[-1] < lapsed:
            lapsed_at = dt.datetime.fromisoformat(orders[-1]) + dt.timedelta(days=180)
            members["Lapsed customers (180 days)"].add(ref, _stamp(lapsed_at))
    created = _stamp(account.start - dt.timedelta(days=200))
    for name, opt_in in _LISTS:
        yield {
            "type": "list",
            "id": account.list_ids[name],
            "attributes": {"name": name, "opt_in_process": opt_in, "created": created, "updated": _stamp(DEMO_UNTIL)},
            "relationships": {"profiles": members.pop(name).relationship(), **account.triggers(name)},
        }
    for name in _SEGMENTS:
        yield {
            "type": "segment",
            "id": account.segment_ids[name],
            "attributes": {
                "name": name,
                "created": created,
                "updated": _stamp(DEMO_UNTIL),
                "is_active": True,
                "is_processing": False,
                "is_starred": name.startswith("Engaged"),
            },
            "relationships": {"profiles": members.pop(name).relationship()},
        }


class _Members:
    """A list's or segment's members while a demo account streams: ids, and join times as epoch seconds."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.joined = array.array("q")

    def add(self, profile_id: str, joined: str) -> None:
        self.ids.append(profile_id)
        self.joined.append(int(dt.datetime.fromisoformat(joined).timestamp()))

    def relationship(self) -> dict[str, Any]:
        """`relationships.profiles` as a list holds it: the members and when each joined."""
        return {
            "data": [{"type": "profile", "id": pid} for pid in self.ids],
            "joined": {
                pid: _stamp(dt.datetime.fromtimestamp(t, dt.UTC)) for pid, t in zip(self.ids, self.joined, strict=True)
            },
        }


DEMO_BATCH = 5_000  # resources per store transaction while a demo account loads


def load_demo(index: ResourceIndex, store: Store, profiles: int, *, account: str = DEMO_ACCOUNT, seed: int = 0) -> int:
    """Fill `account` with a demo account through the seed loader, in batches; an account that already holds
    resources is left alone (as `--seed-data` does: a restart or a second worker does not load it twice), unless
    it holds what a load that died mid-way stored (then it is loaded again: see `apply_seed`).
    Returns how many resources were stored."""
    doc = {"accounts": {account: demo_resources(index, profiles, seed=seed)}}
    source = f"demo data: {profiles:,} profiles, seed {seed}"
    # One load at a time across processes, and a load a crash cut short is loaded again (`apply_seed`): emptied
    # here, before `loading()` looks at the store, so that an emptied store loads the fast way.
    with store.load_lock():
        stored_as = account_for_name(account)  # (None: apply_seed says why)
        if stored_as is not None:
            forget_unfinished_load(store, str(stored_as))
        # Identifiers are unique by construction, so the loader need not search the account for each profile.
        with store.loading():  # a SQL store builds its indexes after the load, not row by row
            return apply_seed(
                index, store, doc, only_empty=True, batch_size=DEMO_BATCH, check_unique=False, source=source
            )


def write_demo_seed(
    out: IO[str], index: ResourceIndex, profiles: int, *, account: str = DEMO_ACCOUNT, seed: int = 0
) -> int:
    """Write a demo account as a JSON seed file (`--seed-data` loads it), streamed: one resource per line."""
    out.write('{"accounts": {' + json.dumps(account) + ": [\n")
    count = 0
    for resource in demo_resources(index, profiles, seed=seed):
        out.write((",\n" if count else "") + json.dumps(resource, separators=(",", ":")))
        count += 1
    out.write("\n]}}\n")
    return count
