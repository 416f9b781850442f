// The AWS identity a Bedrock deployment signs as: the SDK's default chain
// (environment, IRSA's web identity, container and instance roles), or keys
// of its own, and on top of either a role to assume (LiteLLM's aws_role_name).
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { AwsIdentity } from "../../../config/model-config.js";

type AwsCredentialIdentityProvider = ReturnType<typeof fromTemporaryCredentials>;
type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

// Assumed-role credentials are renewed this long before they expire, so no request signs with one about to lapse.
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Asks the provider once and again only when its credentials near their expiry: STS is not called
 * per request. A failed ask is not kept — the next request asks again.
 */
function held(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const credentials = await current?.catch(() => undefined);
    if (credentials && (!credentials.expiration || credentials.expiration.getTime() - Date.now() > RENEW_BEFORE_MS)) return credentials;
    current = provider();
    return current;
  };
}

// The default chain caches and refreshes by itself; one for the process.
const chain = defaultProvider();
const providers = new Map<string, AwsCredentialIdentityProvider>();

/** The credentials provider for a deployment's identity (one per distinct identity, shared by deployments that have it). */
export function awsCredentials(identity: AwsIdentity | undefined, region: string): AwsCredentialIdentityProvider {
  if (!identity) return chain;
  const key = JSON.stringify([identity, region]);
  let provider = providers.get(key);
  if (!provider) {
    const base: AwsCredentialIdentityProvider =
      identity.accessKeyId && identity.secretAccessKey
        ? async () => ({
            accessKeyId: identity.accessKeyId!,
            secretAccessKey: identity.secretAccessKey!,
            ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
          })
        : chain;
    provider = identity.roleArn
      ? held(
          fromTemporaryCredentials({
            params: { RoleArn: identity.roleArn, RoleSessionName: identity.sessionName ?? "tandem" },
            masterCredentials: base,
            clientConfig: { region, ...(identity.stsEndpoint ? { endpoint: identity.stsEndpoint } : {}) },
          }),
        )
      : base;
    providers.set(key, provider);
  }
  return provider;
}
