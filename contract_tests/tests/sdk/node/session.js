// A broad session of Klaviyo's official Node SDK (`klaviyo-api` on npm), unmodified, against the mock.
//
// Usage: node session.js BASE_URL API_KEY  ->  one JSON line per step: {"step", "ok", "detail"}.
// Every API class gets the mock as its `basePath`. Each step asserts what a real account answers
// (what was created is read back, filters find it, counts match, page 2 via the whole `links.next` URL).
// Request bodies use the SDK's own (camelCase) model names: the SDK serializes them through its models.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const klaviyo = require("klaviyo-api");

const [baseUrl, apiKey] = process.argv.slice(2);
if (!baseUrl || !apiKey) {
  console.error("usage: node session.js BASE_URL API_KEY");
  process.exit(2);
}

const session = new klaviyo.ApiKeySession(apiKey, new klaviyo.RetryWithExponentialBackoff({ numRetries: 0 }));
function api(Cls) {
  const instance = new Cls(session);
  instance.basePath = baseUrl;
  return instance;
}
const profiles = api(klaviyo.ProfilesApi);
const lists = api(klaviyo.ListsApi);
const events = api(klaviyo.EventsApi);
const metrics = api(klaviyo.MetricsApi);
const campaigns = api(klaviyo.CampaignsApi);
const flows = api(klaviyo.FlowsApi);
const templates = api(klaviyo.TemplatesApi);
const catalogs = api(klaviyo.CatalogsApi);
const coupons = api(klaviyo.CouponsApi);
const images = api(klaviyo.ImagesApi);
const tags = api(klaviyo.TagsApi);
const webhooks = api(klaviyo.WebhooksApi);
const reporting = api(klaviyo.ReportingApi);
const segments = api(klaviyo.SegmentsApi);

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const EMAIL = "arjun@example.com";
const PAGE_PROFILES = 25;
const YEARS = ["greater-or-equal(datetime,2000-01-01T00:00:00)", "less-than(datetime,2100-01-01T00:00:00)"];
const ctx = {};

function need(name) {
  if (!(name in ctx)) throw new Error(`depends on a failed step (missing ${name})`);
  return ctx[name];
}

async function expectStatus(promise, status) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.response && error.response.status, status, String(error));
    return;
  }
  throw new Error(`expected HTTP ${status}, got a success`);
}

const steps = {
  async createProfile() {
    const { body } = await profiles.createProfile({
      data: { type: "profile", attributes: { email: EMAIL, firstName: "Arjun", properties: { tier: "gold" } } },
    });
    assert.equal(body.data.attributes.email, EMAIL);
    assert.equal(body.data.attributes.firstName, "Arjun");
    ctx.profile = body.data.id;
  },
  async duplicateProfileIs409() {
    await expectStatus(profiles.createProfile({ data: { type: "profile", attributes: { email: EMAIL } } }), 409);
  },
  async getProfilePlain() {
    const { body } = await profiles.getProfile(need("profile"));
    assert.equal(body.data.id, ctx.profile);
    assert.deepEqual(body.data.attributes.properties, { tier: "gold" });
    assert.equal(body.data.attributes.subscriptions, undefined);
    assert.equal(body.data.attributes.predictiveAnalytics, undefined);
  },
  async getProfileAdditionalFields() {
    const { body } = await profiles.getProfile(need("profile"), {
      additionalFieldsProfile: ["subscriptions", "predictive_analytics"],
    });
    assert.ok(body.data.attributes.subscriptions);
    assert.ok(body.data.attributes.predictiveAnalytics);
  },
  async filterProfilesByEmail() {
    const found = await profiles.getProfiles({ filter: `equals(email,"${EMAIL}")` });
    assert.deepEqual(found.body.data.map((p) => p.id), [need("profile")]);
    const none = await profiles.getProfiles({ filter: 'equals(email,"nobody@example.com")' });
    assert.deepEqual(none.body.data, []);
  },
  async updateProfile() {
    const id = need("profile");
    const { body } = await profiles.updateProfile(id, { data: { type: "profile", id, attributes: { lastName: "Mehta" } } });
    assert.equal(body.data.attributes.lastName, "Mehta");
    assert.equal((await profiles.getProfile(id)).body.data.attributes.lastName, "Mehta");
  },
  async paginateProfiles() {
    for (let i = 0; i < PAGE_PROFILES; i++) {
      const email = `page${String(i).padStart(2, "0")}@example.com`;
      await profiles.createProfile({ data: { type: "profile", attributes: { email } } });
    }
    let page = (await profiles.getProfiles({ pageSize: 10 })).body;
    assert.equal(page.data.length, 10);
    assert.ok(page.links.next);
    const seen = page.data.map((p) => p.id);
    while (page.links.next) {
      // The SDK's next-page handling: the whole `links.next` URL goes in as `pageCursor`.
      page = (await profiles.getProfiles({ pageSize: 10, pageCursor: page.links.next })).body;
      seen.push(...page.data.map((p) => p.id));
    }
    assert.equal(seen.length, PAGE_PROFILES + 1);
    assert.equal(new Set(seen).size, PAGE_PROFILES + 1);
  },
  async createList() {
    const { body } = await lists.createList({ data: { type: "list", attributes: { name: "Loyal" } } });
    assert.equal(body.data.attributes.name, "Loyal");
    ctx.list = body.data.id;
  },
  async addProfileToList() {
    await lists.addProfilesToList(need("list"), { data: [{ type: "profile", id: need("profile") }] });
    const members = await lists.getProfilesForList(ctx.list);
    assert.deepEqual(members.body.data.map((p) => p.id), [ctx.profile]);
  },
  async listProfileCount() {
    const { body } = await lists.getList(need("list"), { additionalFieldsList: ["profile_count"] });
    assert.equal(body.data.attributes.profileCount, 1);
  },
  async filterListsByName() {
    const { body } = await lists.getLists({ filter: 'equals(name,"Loyal")' });
    assert.deepEqual(body.data.map((l) => l.id), [need("list")]);
  },
  async subscribeProfile() {
    await profiles.bulkSubscribeProfiles({
      data: {
        type: "profile-subscription-bulk-create-job",
        attributes: {
          profiles: {
            data: [
              {
                type: "profile",
                attributes: { email: EMAIL, subscriptions: { email: { marketing: { consent: "SUBSCRIBED" } } } },
              },
            ],
          },
        },
        relationships: { list: { data: { type: "list", id: need("list") } } },
      },
    });
    const { body } = await profiles.getProfile(need("profile"), { additionalFieldsProfile: ["subscriptions"] });
    assert.equal(body.data.attributes.subscriptions.email.marketing.consent, "SUBSCRIBED");
  },
  async createEvents() {
    for (const value of [5, 15.5]) {
      await events.createEvent({
        data: {
          type: "event",
          attributes: {
            properties: { OrderId: `o-${value}` },
            value,
            uniqueId: `order-${value}`,
            metric: { data: { type: "metric", attributes: { name: "Viewed Product" } } },
            profile: { data: { type: "profile", attributes: { email: EMAIL } } },
          },
        },
      });
    }
  },
  async metricWasCreated() {
    const { body } = await metrics.getMetrics();
    const viewed = body.data.filter((m) => m.attributes.name === "Viewed Product");
    assert.equal(viewed.length, 1);
    ctx.metric = viewed[0].id;
  },
  async filterEventsByMetric() {
    const { body } = await events.getEvents({ filter: `equals(metric_id,"${need("metric")}")` });
    assert.deepEqual(body.data.map((e) => e.attributes.eventProperties.OrderId).sort(), ["o-15.5", "o-5"]);
    ctx.event = body.data[0].id;
    const byProfile = await events.getEvents({ filter: `equals(profile_id,"${need("profile")}")` });
    assert.equal(byProfile.body.data.length, 2);
  },
  async eventRelationships() {
    assert.equal((await events.getMetricForEvent(need("event"))).body.data.id, need("metric"));
    assert.equal((await events.getProfileForEvent(need("event"))).body.data.id, need("profile"));
  },
  async metricAggregates() {
    const { body } = await metrics.queryMetricAggregates({
      data: {
        type: "metric-aggregate",
        attributes: { metricId: need("metric"), measurements: ["count", "sum_value"], interval: "month", filter: YEARS },
      },
    });
    const rows = body.data.attributes.data;
    assert.equal(rows.length, 1);
    const sum = (values) => values.reduce((a, b) => a + b, 0);
    assert.equal(sum(rows[0].measurements.count), 2);
    assert.equal(sum(rows[0].measurements.sum_value), 20.5);
  },
  async createTemplate() {
    const { body } = await templates.createTemplate({
      data: { type: "template", attributes: { name: "Receipt", editorType: "CODE", html: "<p>Thanks {{ first_name }}</p>" } },
    });
    ctx.template = body.data.id;
    assert.equal((await templates.getTemplate(ctx.template)).body.data.attributes.name, "Receipt");
  },
  async renderTemplate() {
    const { body } = await templates.renderTemplate({
      data: { type: "template", id: need("template"), attributes: { context: { first_name: "Arjun" } } },
    });
    assert.ok((body.data.attributes.html || "").includes("Thanks Arjun"), body.data.attributes.html);
  },
  async createCampaign() {
    const { body } = await campaigns.createCampaign({
      data: {
        type: "campaign",
        attributes: {
          name: "Monsoon sale",
          audiences: { included: [need("list")] },
          campaignMessages: {
            data: [
              {
                type: "campaign-message",
                attributes: {
                  definition: {
                    channel: "email",
                    label: "Monsoon",
                    content: { subject: "Monsoon!", fromEmail: "shop@example.com" },
                  },
                },
              },
            ],
          },
        },
      },
    });
    assert.equal(body.data.attributes.name, "Monsoon sale");
    assert.equal(body.data.attributes.status, "Draft");
    ctx.campaign = body.data.id;
  },
  async campaignMessagesIncluded() {
    const { body } = await campaigns.getCampaign(need("campaign"), { include: ["campaign-messages"] });
    assert.equal((body.included || []).length, 1);
    assert.equal(body.included[0].type, "campaign-message");
  },
  async filterCampaignsByChannel() {
    const email = await campaigns.getCampaigns("equals(messages.channel,'email')");
    assert.deepEqual(email.body.data.map((c) => c.id), [need("campaign")]);
    const sms = await campaigns.getCampaigns("equals(messages.channel,'sms')");
    assert.deepEqual(sms.body.data, []);
  },
  async campaignWithoutChannelFilterIs400() {
    await expectStatus(campaigns.getCampaigns(""), 400);
  },
  async campaignValuesReport() {
    const { body } = await reporting.queryCampaignValues({
      data: {
        type: "campaign-values-report",
        attributes: {
          statistics: ["opens", "recipients"],
          timeframe: { key: "last_12_months" },
          conversionMetricId: need("metric"),
        },
      },
    });
    assert.ok(Array.isArray(body.data.attributes.results));
  },
  async createFlow() {
    const { body } = await flows.createFlow({
      data: {
        type: "flow",
        attributes: {
          name: "Browse abandonment",
          definition: {
            triggers: [{ type: "metric", id: need("metric") }],
            profileFilter: null,
            actions: [],
            entryActionId: null,
          },
        },
      },
    });
    assert.equal(body.data.attributes.name, "Browse abandonment");
    assert.equal(body.data.attributes.definition, undefined); // only with additional-fields[flow]=definition
    ctx.flow = body.data.id;
  },
  async flowDefinitionOnRequest() {
    const plain = await flows.getFlow(need("flow"));
    assert.equal(plain.body.data.attributes.definition, undefined);
    const full = await flows.getFlow(ctx.flow, { additionalFieldsFlow: ["definition"] });
    assert.ok(full.body.data.attributes.definition);
    assert.equal(full.body.data.attributes.definition.triggers[0].id, need("metric"));
  },
  async catalogItems() {
    const { body } = await catalogs.createCatalogItem({
      data: {
        type: "catalog-item",
        attributes: {
          externalId: "SKU-9",
          title: "Rain jacket",
          description: "Dry",
          url: "https://shop.example.com/sku-9",
          price: 49,
        },
      },
    });
    ctx.item = body.data.id;
    assert.equal((await catalogs.getCatalogItem(ctx.item)).body.data.attributes.title, "Rain jacket");
    const found = await catalogs.getCatalogItems({ filter: 'contains(title,"jacket")' });
    assert.deepEqual(found.body.data.map((i) => i.id), [ctx.item]);
  },
  async couponsAndCodes() {
    const { body } = await coupons.createCoupon({
      data: { type: "coupon", attributes: { externalId: "MONSOON10", description: "10% off" } },
    });
    assert.equal(body.data.id, "MONSOON10");
    await coupons.createCouponCode({
      data: {
        type: "coupon-code",
        attributes: { uniqueCode: "RAIN10" },
        relationships: { coupon: { data: { type: "coupon", id: "MONSOON10" } } },
      },
    });
    const codes = await coupons.getCouponCodes('equals(coupon.id,"MONSOON10")');
    assert.deepEqual(codes.body.data.map((c) => c.attributes.uniqueCode), ["RAIN10"]);
  },
  async imagesFromUrl() {
    const { body } = await images.uploadImageFromUrl({
      data: { type: "image", attributes: { name: "banner", importFromUrl: "https://example.com/banner.png" } },
    });
    ctx.image = body.data.id;
    assert.equal((await images.getImage(ctx.image)).body.data.attributes.name, "banner");
    assert.ok((await images.getImages()).body.data.map((i) => i.id).includes(ctx.image));
  },
  async imageFromFileIsServedAtItsUrl() {
    // The SDK sends a file stream; the `image_url` it gets back serves the same bytes, like Klaviyo's CDN.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kdk-sdk-")), "pixel.png");
    fs.writeFileSync(file, PNG);
    const { body } = await images.uploadImageFromFile(fs.createReadStream(file), "pixel");
    assert.deepEqual([body.data.attributes.name, body.data.attributes.format], ["pixel", "png"]);
    const downloaded = await fetch(body.data.attributes.imageUrl);
    assert.equal(downloaded.headers.get("content-type"), "image/png");
    assert.ok(Buffer.from(await downloaded.arrayBuffer()).equals(PNG));
  },
  async segmentGrowthReport() {
    const { body } = await segments.createSegment({
      data: {
        type: "segment",
        attributes: {
          name: "On the list",
          definition: {
            conditionGroups: [
              { conditions: [{ type: "profile-group-membership", isMember: true, groupIds: [need("list")] }] },
            ],
          },
        },
      },
    });
    ctx.segment = body.data.id;
    const hour = 3600 * 1000;
    const report = await reporting.querySegmentValues({
      data: {
        type: "segment-values-report",
        attributes: {
          statistics: ["total_members", "members_added", "members_removed"],
          timeframe: { start: new Date(Date.now() - hour), end: new Date(Date.now() + hour) },
          filter: `equals(segment_id,"${ctx.segment}")`,
        },
      },
    });
    const rows = report.body.data.attributes.results;
    assert.deepEqual(rows.map((r) => r.groupings), [{ segment_id: ctx.segment }]);
    assert.deepEqual(rows[0].statistics, { total_members: 1, members_added: 1, members_removed: 0 });
  },
  async tagsOnLists() {
    const { body } = await tags.createTag({ data: { type: "tag", attributes: { name: "monsoon" } } });
    ctx.tag = body.data.id;
    await tags.tagLists(ctx.tag, { data: [{ type: "list", id: need("list") }] });
    const ids = await tags.getListIdsForTag(ctx.tag);
    assert.deepEqual(ids.body.data.map((l) => l.id), [ctx.list]);
  },
  async webhooksLifecycle() {
    const topics = (await webhooks.getWebhookTopics()).body.data.map((t) => t.id);
    assert.ok(topics.includes("event:klaviyo.sent_sms"));
    const { body } = await webhooks.createWebhook({
      data: {
        type: "webhook",
        attributes: { name: "orders", endpointUrl: "https://hooks.example.com/orders", secretKey: "s3cret" },
        relationships: { webhookTopics: { data: [{ type: "webhook-topic", id: "event:klaviyo.sent_sms" }] } },
      },
    });
    ctx.webhook = body.data.id;
    assert.deepEqual((await webhooks.getWebhooks()).body.data.map((w) => w.id), [ctx.webhook]);
    await webhooks.deleteWebhook(ctx.webhook);
    assert.deepEqual((await webhooks.getWebhooks()).body.data, []);
  },
  async deleteListAnd404() {
    await lists.deleteList(need("list"));
    await expectStatus(lists.getList(ctx.list), 404);
  },
};

(async () => {
  for (const [step, run] of Object.entries(steps)) {
    let ok = true;
    let detail = "";
    try {
      await run();
    } catch (error) {
      ok = false;
      const response = error && error.response;
      detail = response
        ? `HTTP ${response.status} ${response.config && response.config.method} ${response.config && response.config.url}: ${JSON.stringify(response.data)}`
        : String((error && error.stack) || error);
    }
    process.stdout.write(JSON.stringify({ step, ok, detail }) + "\n");
  }
})();
