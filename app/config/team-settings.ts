import { z } from "zod";

/**
 * litellm_settings.default_team_settings: LiteLLM's per-team settings, a list of `{team_id, ...}`.
 * What LiteLLM reads from an entry is the team's logging — success/failure callbacks and their
 * credentials (langfuse_public_key, langfuse_secret, callback_vars …). tandem has no callbacks, so
 * the file is accepted as written and each team with settings is named in a startup warning, with
 * the setting names only: their values are often credentials.
 */
// A YAML team id may read as a number (team_id: 42); an empty setting is no teams.
export const DefaultTeamSettings = z
  .array(z.object({ team_id: z.union([z.string().min(1), z.number().transform(String)]) }).loose())
  .nullable()
  .transform((entries) => entries ?? []);

export function teamSettingsWarnings(entries: z.output<typeof DefaultTeamSettings>, source: string): string[] {
  return entries.flatMap((entry, index) => {
    const settings = Object.keys(entry).filter((name) => name !== "team_id");
    if (settings.length === 0) return [];
    return [
      `${source}: litellm_settings.default_team_settings[${index}] (team ${entry.team_id}): ${settings.join(", ")} ` +
        `${settings.length === 1 ? "is" : "are"} not implemented by tandem (no callbacks); the team's requests are served without them`,
    ];
  });
}
