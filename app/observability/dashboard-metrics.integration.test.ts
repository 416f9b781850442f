// The chart's Grafana dashboard and alert rules only name metrics a running
// tandem exports: a renamed metric would leave a blank panel or an alert that
// never fires, silently.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { startProxy, type Proxy } from "../test-support/proxy.js";
import { appRoot } from "../paths.js";

const chart = join(appRoot, "charts/tandem");

/** Every tandem_* metric a PromQL text names (a histogram's `_bucket` series by the histogram's name). */
function metricNames(promql: string[]): Set<string> {
  return new Set(promql.flatMap((expr) => expr.match(/\btandem_[a-z_]+/g) ?? []).map((name) => name.replace(/_bucket$/, "")));
}

describe("the chart's dashboard and alerts", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy();
  });
  after(async () => {
    await proxy?.stop();
  });

  const dashboard = JSON.parse(readFileSync(join(chart, "dashboards/tandem.json"), "utf8")) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ definition?: string }> };
  };
  const rules = parse(readFileSync(join(chart, "files/tandem-alerts.yaml"), "utf8")) as {
    groups: Array<{ rules: Array<{ expr: string }> }>;
  };
  const dashboardExprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
  ];
  const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));

  it("name metrics at all (the extraction works)", () => {
    assert.ok(metricNames(dashboardExprs).size >= 10, [...metricNames(dashboardExprs)].join(", "));
    assert.ok(metricNames(ruleExprs).size >= 4, [...metricNames(ruleExprs)].join(", "));
  });

  for (const [what, exprs] of [
    ["dashboard", dashboardExprs],
    ["alert rules", ruleExprs],
  ] as const) {
    it(`every metric the ${what} name is exported by a running tandem`, async () => {
      const exported = await (await fetch(`${proxy.base}/metrics`)).text();
      const missing = [...metricNames(exprs)].filter((name) => !exported.includes(`# HELP ${name} `));
      assert.deepEqual(missing, [], `not exported: ${missing.join(", ")}`);
    });
  }
});
