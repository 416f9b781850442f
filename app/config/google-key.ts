// A Google service account key (Vertex AI's vertex_credentials), read once at startup.

/** The fields of a service account key file tandem uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri: string;
  project_id?: string;
}

const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";

/** A key file's text as a service account key, or an Error saying what it lacks (never its content). */
export function serviceAccountKey(text: string): ServiceAccountKey {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error("is not JSON (a service account key file, or its path)");
  }
  if (raw.type !== undefined && raw.type !== "service_account")
    throw new Error(`is a ${JSON.stringify(raw.type)} credential; tandem takes a service account key`);
  if (typeof raw.client_email !== "string" || typeof raw.private_key !== "string" || !raw.private_key.includes("PRIVATE KEY"))
    throw new Error("lacks client_email or private_key (a service account key has both)");
  const tokenUri = typeof raw.token_uri === "string" && /^https?:\/\//.test(raw.token_uri) ? raw.token_uri : DEFAULT_TOKEN_URI;
  return {
    client_email: raw.client_email,
    private_key: raw.private_key,
    ...(typeof raw.private_key_id === "string" ? { private_key_id: raw.private_key_id } : {}),
    token_uri: tokenUri,
    ...(typeof raw.project_id === "string" ? { project_id: raw.project_id } : {}),
  };
}
