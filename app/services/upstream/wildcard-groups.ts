import type { Deployment } from "../../config/model-config.js";
import { resolvePrice } from "../../config/prices.js";
import { globMatch } from "../glob.js";

const SAFE_NAME = /^[\w.:/@+-]{1,200}$/;

/** How many concrete names are remembered (clients choose the names: the memory must not grow with them). */
const REMEMBERED = 1000;

/**
 * LiteLLM's wildcard model groups: `model_name: "*"` with `model: openai/*`
 * serves any model name, `anthropic/*` any name under that prefix. The part
 * the `*` matched replaces the `*` in the upstream model; the most specific
 * pattern wins, a configured name always does. A concrete deployment keeps
 * its wildcard's id (cooldowns and limits are the deployment's), and is
 * priced for the concrete model unless the config priced the wildcard.
 */
export class WildcardGroups {
  private readonly patterns: Array<{ name: string; deployments: Deployment[]; specificity: number }>;
  private readonly concrete = new Map<string, Deployment[]>();

  constructor(models: ReadonlyMap<string, Deployment[]>) {
    this.patterns = [...models]
      .filter(([name]) => name.includes("*"))
      .map(([name, deployments]) => ({
        name,
        deployments,
        specificity: name.replaceAll("*", "").length,
      }))
      .sort((a, b) => b.specificity - a.specificity);
  }

  deploymentsFor(model: string): Deployment[] {
    const known = this.concrete.get(model);
    if (known) return known;
    // The name goes into the upstream's URL (Azure, Bedrock) and response headers: plain names only.
    if (!SAFE_NAME.test(model) || model.includes("..")) return [];
    for (const pattern of this.patterns) {
      const matched = globMatch(pattern.name, model);
      if (matched === undefined) continue;
      const deployments = pattern.deployments.map((d) => {
        const upstreamModel = d.upstreamModel.includes("*") ? d.upstreamModel.replace("*", matched) : d.upstreamModel;
        return {
          ...d,
          name: model,
          pattern: pattern.name,
          upstreamModel,
          price: d.price.source === "config" ? d.price : resolvePrice(d.provider, upstreamModel, {}),
        };
      });
      if (this.concrete.size >= REMEMBERED) this.concrete.delete(this.concrete.keys().next().value!);
      this.concrete.set(model, deployments);
      return deployments;
    }
    return [];
  }
}
