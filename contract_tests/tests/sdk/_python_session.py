"""A broad session of Klaviyo's official Python SDK (`klaviyo-api` on PyPI), unmodified, against the mock.

Each step makes one or a few SDK calls and asserts what a real account would answer: what was created
is read back, filters find it, counts match, page 2 comes from the SDK's own `links.next` handling.
Responses are parsed into the SDK's own models (the default), so a body the SDK cannot parse fails.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

from ._steps import Session

__all__ = ["EMAIL", "STEPS"]

EMAIL = "priya@example.com"
PHONE = "+15005550006"
PAGE_PROFILES = 25
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
_YEARS = ["greater-or-equal(datetime,2000-01-01T00:00:00)", "less-than(datetime,2100-01-01T00:00:00)"]


def _profile(email: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": {"email": email, **attributes}}}


def create_profile(s: Session) -> None:
    body = _profile(EMAIL, first_name="Priya", phone_number=PHONE, properties={"tier": "gold"})
    created = s.client.Profiles.create_profile(body)
    assert created.data.attributes.email == EMAIL
    assert created.data.attributes.first_name == "Priya"
    s.ctx["profile"] = created.data.id


def duplicate_profile_is_409(s: Session) -> None:
    from openapi_client.exceptions import ApiException

    try:
        s.client.Profiles.create_profile(_profile(EMAIL))
    except ApiException as exc:
        assert exc.status == 409, exc
    else:
        raise AssertionError("a second profile with the same email was accepted")


def get_profile_plain(s: Session) -> None:
    got = s.client.Profiles.get_profile(s.ctx["profile"])
    assert got.data.id == s.ctx["profile"]
    assert got.data.attributes.properties == {"tier": "gold"}
    # Sent only on request (`additional-fields[profile]`).
    assert got.data.attributes.subscriptions is None
    assert got.data.attributes.predictive_analytics is None


def get_profile_additional_fields(s: Session) -> None:
    got = s.client.Profiles.get_profile(
        s.ctx["profile"], additional_fields_profile=["subscriptions", "predictive_analytics"]
    )
    assert got.data.attributes.subscriptions is not None
    assert got.data.attributes.predictive_analytics is not None


def filter_profiles_by_email(s: Session) -> None:
    found = s.client.Profiles.get_profiles(filter=f'equals(email,"{EMAIL}")')
    assert [p.id for p in found.data] == [s.ctx["profile"]]
    none = s.client.Profiles.get_profiles(filter='equals(email,"nobody@example.com")')
    assert none.data == []


def update_profile(s: Session) -> None:
    body = {"data": {"type": "profile", "id": s.ctx["profile"], "attributes": {"last_name": "Rao"}}}
    updated = s.client.Profiles.update_profile(s.ctx["profile"], body)
    assert updated.data.attributes.last_name == "Rao"
    assert s.client.Profiles.get_profile(s.ctx["profile"]).data.attributes.last_name == "Rao"


def create_or_update_profile(s: Session) -> None:
    upserted = s.client.Profiles.create_or_update_profile(_profile(EMAIL, title="Engineer"))
    assert upserted.data.id == s.ctx["profile"]
    assert upserted.data.attributes.title == "Engineer"


def paginate_profiles(s: Session) -> None:
    for i in range(PAGE_PROFILES):
        s.client.Profiles.create_profile(_profile(f"page{i:02d}@example.com"))
    total = PAGE_PROFILES + 1
    first = s.client.Profiles.get_profiles(page_size=10)
    assert len(first.data) == 10 and first.links.next
    seen = [p.id for p in first.data]
    page = first
    while page.links.next:
        # The SDK's own next-page handling: the whole `links.next` URL goes in as the cursor.
        page = s.client.Profiles.get_profiles(page_size=10, page_cursor=page.links.next)
        seen += [p.id for p in page.data]
    assert len(seen) == total and len(set(seen)) == total


def create_list(s: Session) -> None:
    created = s.client.Lists.create_list({"data": {"type": "list", "attributes": {"name": "VIP customers"}}})
    assert created.data.attributes.name == "VIP customers"
    s.ctx["list"] = created.data.id


def add_profile_to_list(s: Session) -> None:
    s.client.Lists.add_profiles_to_list(s.ctx["list"], {"data": [{"type": "profile", "id": s.ctx["profile"]}]})
    members = s.client.Lists.get_profiles_for_list(s.ctx["list"])
    assert [p.id for p in members.data] == [s.ctx["profile"]]
    ids = s.client.Lists.get_profile_ids_for_list(s.ctx["list"])
    assert [p.id for p in ids.data] == [s.ctx["profile"]]


def list_profile_count(s: Session) -> None:
    got = s.client.Lists.get_list(s.ctx["list"], additional_fields_list=["profile_count"])
    assert got.data.attributes.profile_count == 1


def lists_of_profile(s: Session) -> None:
    lists = s.client.Profiles.get_lists_for_profile(s.ctx["profile"])
    assert [lst.id for lst in lists.data] == [s.ctx["list"]]


def filter_lists_by_name(s: Session) -> None:
    found = s.client.Lists.get_lists(filter='equals(name,"VIP customers")')
    assert [lst.id for lst in found.data] == [s.ctx["list"]]


def subscribe_profile(s: Session) -> None:
    body = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {
                                "email": EMAIL,
                                "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
                            },
                        }
                    ]
                }
            },
            "relationships": {"list": {"data": {"type": "list", "id": s.ctx["list"]}}},
        }
    }
    s.client.Profiles.bulk_subscribe_profiles(body)
    got = s.client.Profiles.get_profile(s.ctx["profile"], additional_fields_profile=["subscriptions"])
    assert got.data.attributes.subscriptions.email.marketing.consent == "SUBSCRIBED"


def create_events(s: Session) -> None:
    for value in (10.0, 32.5):
        body = {
            "data": {
                "type": "event",
                "attributes": {
                    "properties": {"OrderId": f"o-{value}"},
                    "value": value,
                    "unique_id": f"order-{value}",
                    "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                    "profile": {"data": {"type": "profile", "attributes": {"email": EMAIL}}},
                },
            }
        }
        s.client.Events.create_event(body)


def metric_was_created(s: Session) -> None:
    metrics = s.client.Metrics.get_metrics()
    placed = [m for m in metrics.data if m.attributes.name == "Placed Order"]
    assert len(placed) == 1
    s.ctx["metric"] = placed[0].id
    assert s.client.Metrics.get_metric(s.ctx["metric"]).data.attributes.name == "Placed Order"


def filter_events_by_metric(s: Session) -> None:
    events = s.client.Events.get_events(filter=f'equals(metric_id,"{s.ctx["metric"]}")')
    assert sorted(e.attributes.event_properties.get("OrderId") for e in events.data) == ["o-10.0", "o-32.5"]
    s.ctx["event"] = events.data[0].id
    by_profile = s.client.Events.get_events(filter=f'equals(profile_id,"{s.ctx["profile"]}")')
    assert len(by_profile.data) == 2


def event_relationships(s: Session) -> None:
    assert s.client.Events.get_metric_for_event(s.ctx["event"]).data.id == s.ctx["metric"]
    assert s.client.Events.get_profile_for_event(s.ctx["event"]).data.id == s.ctx["profile"]


def metric_aggregates(s: Session) -> None:
    body = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": s.ctx["metric"],
                "measurements": ["count", "sum_value"],
                "interval": "month",
                "filter": _YEARS,
            },
        }
    }
    result = s.client.Metrics.query_metric_aggregates(body)
    (row,) = result.data.attributes.data
    assert sum(row.measurements["count"]) == 2
    assert sum(row.measurements["sum_value"]) == 42.5


def create_template(s: Session) -> None:
    body = {
        "data": {
            "type": "template",
            "attributes": {"name": "Welcome", "editor_type": "CODE", "html": "<p>Hello {{ first_name }}</p>"},
        }
    }
    created = s.client.Templates.create_template(body)
    assert created.data.attributes.name == "Welcome"
    s.ctx["template"] = created.data.id
    assert s.client.Templates.get_template(s.ctx["template"]).data.attributes.html == "<p>Hello {{ first_name }}</p>"


def render_template(s: Session) -> None:
    body = {
        "data": {
            "type": "template",
            "id": s.ctx["template"],
            "attributes": {"context": {"first_name": "Priya"}},
        }
    }
    rendered = s.client.Templates.render_template(body)
    assert "Hello Priya" in (rendered.data.attributes.html or "")


def clone_template(s: Session) -> None:
    body = {"data": {"type": "template", "id": s.ctx["template"], "attributes": {"name": "Welcome copy"}}}
    clone = s.client.Templates.clone_template(body)
    assert clone.data.id != s.ctx["template"] and clone.data.attributes.name == "Welcome copy"
    names = sorted(t.attributes.name for t in s.client.Templates.get_templates().data)
    assert names == ["Welcome", "Welcome copy"]


def create_campaign(s: Session) -> None:
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": "Spring sale",
                "audiences": {"included": [s.ctx["list"]]},
                "campaign-messages": {
                    "data": [
                        {
                            "type": "campaign-message",
                            "attributes": {
                                "definition": {
                                    "channel": "email",
                                    "label": "Spring",
                                    "content": {"subject": "Spring!", "from_email": "shop@example.com"},
                                }
                            },
                        }
                    ]
                },
            },
        }
    }
    created = s.client.Campaigns.create_campaign(body)
    assert created.data.attributes.name == "Spring sale"
    assert created.data.attributes.status == "Draft"
    s.ctx["campaign"] = created.data.id


def campaign_messages_included(s: Session) -> None:
    got = s.client.Campaigns.get_campaign(s.ctx["campaign"], include=["campaign-messages"])
    assert got.included and len(got.included) == 1
    (message,) = got.included  # the SDK keeps `included` resources as plain dicts
    assert message["type"] == "campaign-message"
    assert message["attributes"]["definition"]["content"]["subject"] == "Spring!"
    s.ctx["campaign_message"] = message["id"]


def filter_campaigns_by_channel(s: Session) -> None:
    email = s.client.Campaigns.get_campaigns(filter="equals(messages.channel,'email')")
    assert [c.id for c in email.data] == [s.ctx["campaign"]]
    sms = s.client.Campaigns.get_campaigns(filter="equals(messages.channel,'sms')")
    assert sms.data == []


def update_campaign(s: Session) -> None:
    body = {"data": {"type": "campaign", "id": s.ctx["campaign"], "attributes": {"name": "Spring sale 2"}}}
    s.client.Campaigns.update_campaign(s.ctx["campaign"], body)
    assert s.client.Campaigns.get_campaign(s.ctx["campaign"]).data.attributes.name == "Spring sale 2"


def campaign_values_report(s: Session) -> None:
    body = {
        "data": {
            "type": "campaign-values-report",
            "attributes": {
                "statistics": ["opens", "recipients"],
                "timeframe": {"key": "last_12_months"},
                "conversion_metric_id": s.ctx["metric"],
            },
        }
    }
    report = s.client.Reporting.query_campaign_values(body)
    assert report.data.attributes.results is not None


def create_flow(s: Session) -> None:
    body = {
        "data": {
            "type": "flow",
            "attributes": {
                "name": "Welcome series",
                "definition": {
                    "triggers": [{"type": "list", "id": s.ctx["list"]}],
                    "profile_filter": None,
                    "actions": [
                        {
                            "temporary_id": "a1",
                            "type": "time-delay",
                            "links": {"next": None},
                            "data": {"unit": "days", "value": 1, "secondary_value": 0},
                        }
                    ],
                    "entry_action_id": "a1",
                },
            },
        }
    }
    created = s.client.Flows.create_flow(body)
    assert created.data.attributes.name == "Welcome series"
    assert created.data.attributes.definition is None  # sent only with additional-fields[flow]=definition
    s.ctx["flow"] = created.data.id


def get_flow_definition_on_request(s: Session) -> None:
    plain = s.client.Flows.get_flow(s.ctx["flow"])
    assert plain.data.attributes.definition is None
    full = s.client.Flows.get_flow(s.ctx["flow"], additional_fields_flow=["definition"])
    assert full.data.attributes.definition is not None
    triggers = full.data.attributes.definition.triggers
    assert [t["id"] if isinstance(t, dict) else t.actual_instance.id for t in triggers] == [s.ctx["list"]]


def update_flow_status(s: Session) -> None:
    body = {"data": {"type": "flow", "id": s.ctx["flow"], "attributes": {"status": "live"}}}
    s.client.Flows.update_flow(s.ctx["flow"], body)
    flows = s.client.Flows.get_flows(filter='equals(status,"live")')
    assert [f.id for f in flows.data] == [s.ctx["flow"]]


def catalog_items(s: Session) -> None:
    body = {
        "data": {
            "type": "catalog-item",
            "attributes": {
                "external_id": "SKU-1",
                "title": "Running shoe",
                "description": "Light",
                "url": "https://shop.example.com/sku-1",
                "price": 99.0,
            },
        }
    }
    created = s.client.Catalogs.create_catalog_item(body)
    s.ctx["item"] = created.data.id
    assert s.client.Catalogs.get_catalog_item(s.ctx["item"]).data.attributes.title == "Running shoe"
    found = s.client.Catalogs.get_catalog_items(filter='contains(title,"shoe")')
    assert [i.id for i in found.data] == [s.ctx["item"]]


def coupons(s: Session) -> None:
    created = s.client.Coupons.create_coupon(
        {"data": {"type": "coupon", "attributes": {"external_id": "DIWALI20", "description": "20% off"}}}
    )
    assert created.data.id == "DIWALI20"
    assert s.client.Coupons.get_coupon("DIWALI20").data.attributes.description == "20% off"


def coupon_codes(s: Session) -> None:
    body = {
        "data": {
            "type": "coupon-code",
            "attributes": {"unique_code": "ABC123"},
            "relationships": {"coupon": {"data": {"type": "coupon", "id": "DIWALI20"}}},
        }
    }
    s.client.Coupons.create_coupon_code(body)
    codes = s.client.Coupons.get_coupon_codes(filter='equals(coupon.id,"DIWALI20")')
    assert [c.attributes.unique_code for c in codes.data] == ["ABC123"]


def images(s: Session) -> None:
    body = {
        "data": {
            "type": "image",
            "attributes": {"name": "hero", "import_from_url": "https://example.com/hero.png"},
        }
    }
    created = s.client.Images.upload_image_from_url(body)
    s.ctx["image"] = created.data.id
    assert s.client.Images.get_image(s.ctx["image"]).data.attributes.name == "hero"
    assert s.ctx["image"] in [i.id for i in s.client.Images.get_images().data]


def upload_image_file(s: Session) -> None:
    """The SDK sends bare bytes (named "file", `application/octet-stream`); the `image_url` it gets back serves
    them, as Klaviyo's CDN would, to a plain download without credentials."""
    import urllib.request

    created = s.client.Images.upload_image_from_file(_PNG, name="pixel")
    attributes = created.data.attributes
    assert (attributes.name, attributes.format, attributes.size) == ("pixel", "png", len(_PNG))
    with urllib.request.urlopen(attributes.image_url, timeout=10) as downloaded:
        assert downloaded.headers["content-type"] == "image/png"
        assert downloaded.read() == _PNG


def segment_growth_report(s: Session) -> None:
    """A segment defined by the list's membership: the segment report counts the profile on the list."""
    condition = {"type": "profile-group-membership", "is_member": True, "group_ids": [s.ctx["list"]]}
    definition = {"condition_groups": [{"conditions": [condition]}]}
    body = {"data": {"type": "segment", "attributes": {"name": "On the list", "definition": definition}}}
    s.ctx["segment"] = s.client.Segments.create_segment(body).data.id
    assert _segment_statistics(s) == {"total_members": 1, "members_added": 1, "members_removed": 0}


def _segment_statistics(s: Session) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)
    body = {
        "data": {
            "type": "segment-values-report",
            "attributes": {
                "statistics": ["total_members", "members_added", "members_removed"],
                "timeframe": {"start": (now - hour).isoformat(), "end": (now + hour).isoformat()},
                "filter": f'equals(segment_id,"{s.ctx["segment"]}")',
            },
        }
    }
    (row,) = s.client.Reporting.query_segment_values(body).data.attributes.results
    assert row.groupings == {"segment_id": s.ctx["segment"]}
    return dict(row.statistics)


def tags(s: Session) -> None:
    created = s.client.Tags.create_tag({"data": {"type": "tag", "attributes": {"name": "spring"}}})
    s.ctx["tag"] = created.data.id
    s.client.Tags.tag_campaigns(s.ctx["tag"], {"data": [{"type": "campaign", "id": s.ctx["campaign"]}]})
    ids = s.client.Tags.get_campaign_ids_for_tag(s.ctx["tag"])
    assert [c.id for c in ids.data] == [s.ctx["campaign"]]
    assert [t.attributes.name for t in s.client.Tags.get_tags().data] == ["spring"]


def webhooks(s: Session) -> None:
    topics = [t.id for t in s.client.Webhooks.get_webhook_topics().data]
    assert "event:klaviyo.sent_sms" in topics
    body = {
        "data": {
            "type": "webhook",
            "attributes": {"name": "inbound", "endpoint_url": "https://hooks.example.com/k", "secret_key": "s3cret"},
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": "event:klaviyo.sent_sms"}]}},
        }
    }
    created = s.client.Webhooks.create_webhook(body)
    s.ctx["webhook"] = created.data.id
    assert [w.id for w in s.client.Webhooks.get_webhooks().data] == [s.ctx["webhook"]]
    s.client.Webhooks.delete_webhook(s.ctx["webhook"])
    assert s.client.Webhooks.get_webhooks().data == []


def remove_profile_from_list(s: Session) -> None:
    s.client.Lists.remove_profiles_from_list(s.ctx["list"], {"data": [{"type": "profile", "id": s.ctx["profile"]}]})
    assert s.client.Lists.get_profiles_for_list(s.ctx["list"]).data == []


def segment_report_counts_the_departure(s: Session) -> None:
    assert _segment_statistics(s) == {"total_members": 0, "members_added": 1, "members_removed": 1}


def delete_and_404(s: Session) -> None:
    from openapi_client.exceptions import ApiException

    s.client.Templates.delete_template(s.ctx["template"])
    try:
        s.client.Templates.get_template(s.ctx["template"])
    except ApiException as exc:
        assert exc.status == 404
    else:
        raise AssertionError("a deleted template was still found")


STEPS: list[tuple[str, Callable[[Session], None]]] = [
    (step.__name__, step)
    for step in (
        create_profile,
        duplicate_profile_is_409,
        get_profile_plain,
        get_profile_additional_fields,
        filter_profiles_by_email,
        update_profile,
        create_or_update_profile,
        paginate_profiles,
        create_list,
        add_profile_to_list,
        list_profile_count,
        lists_of_profile,
        filter_lists_by_name,
        subscribe_profile,
        create_events,
        metric_was_created,
        filter_events_by_metric,
        event_relationships,
        metric_aggregates,
        create_template,
        render_template,
        clone_template,
        create_campaign,
        campaign_messages_included,
        filter_campaigns_by_channel,
        update_campaign,
        campaign_values_report,
        create_flow,
        get_flow_definition_on_request,
        update_flow_status,
        catalog_items,
        coupons,
        coupon_codes,
        images,
        upload_image_file,
        segment_growth_report,
        tags,
        webhooks,
        remove_profile_from_list,
        segment_report_counts_the_departure,
        delete_and_404,
    )
]
