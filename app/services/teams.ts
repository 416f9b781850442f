import type { RoutedClient } from "../db/routing-client.js";
import type { Team } from "../generated/prisma/client.js";
import { ApiError } from "./errors.js";
import { keyView } from "./keys.js";

export interface NewTeamInput {
  team_alias: string;
  max_budget?: number | null;
  models?: string[];
}

function teamView(team: Team) {
  return {
    team_id: team.team_id,
    team_alias: team.team_alias,
    models: team.models,
    max_budget: team.max_budget,
    spend: team.spend,
    created_at: team.created_at.toISOString(),
  };
}

export async function newTeam(db: RoutedClient, input: NewTeamInput) {
  try {
    const team = await db.team.create({
      data: { team_alias: input.team_alias, max_budget: input.max_budget ?? null, models: input.models ?? [] },
    });
    await db.$consistency.wrote([`team:${team.team_id}`]);
    return teamView(team);
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") {
      throw ApiError.badRequest(`team_alias: a team named ${JSON.stringify(input.team_alias)} already exists`, "team_alias");
    }
    throw error;
  }
}

export async function teamInfo(db: RoutedClient, teamId: string) {
  db.$consistency.dependOn([`team:${teamId}`]);
  const team = await db.team.findUnique({ where: { team_id: teamId }, include: { keys: { orderBy: { created_at: "asc" } } } });
  if (!team) throw ApiError.notFound(`team ${teamId} not found`);
  return {
    team_id: team.team_id,
    team_info: teamView(team),
    keys: team.keys.map((k) => {
      const { token, ...rest } = keyView(k);
      return { ...rest, token };
    }),
  };
}
