// AWS STS's AssumeRole on a local port (the AWS SDK's STS client posts its
// query-protocol form here): hands out TEST_ASSUMED for any role and records
// who asked, so a test sees the role, the session name and the caller's key.
import { createServer } from "node:http";
import { listenLocally } from "../dev/local-server.js";
import { TEST_ASSUMED } from "./fake-bedrock.js";

export interface FakeSts {
  url: string;
  /** AssumeRole calls: the form fields, and the access key id they were signed with. */
  calls: Array<{ form: Record<string, string>; signedBy: string | undefined }>;
  close(): Promise<void>;
}

export async function startFakeSts(): Promise<FakeSts> {
  const calls: FakeSts["calls"] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      calls.push({ form, signedBy: /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] });
      const expiration = new Date(Date.now() + 3600_000).toISOString();
      res
        .writeHead(200, { "content-type": "text/xml" })
        .end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
            `<Credentials><AccessKeyId>${TEST_ASSUMED.accessKeyId}</AccessKeyId><SecretAccessKey>${TEST_ASSUMED.secretAccessKey}</SecretAccessKey>` +
            `<SessionToken>${TEST_ASSUMED.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
            `<AssumedRoleUser><Arn>${form.RoleArn ?? ""}/${form.RoleSessionName ?? ""}</Arn><AssumedRoleId>AROATANDEM:${form.RoleSessionName ?? ""}</AssumedRoleId></AssumedRoleUser>` +
            `</AssumeRoleResult><ResponseMetadata><RequestId>tandem-fake</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
    });
  });
  const listening = await listenLocally(server, 0);
  return { url: `http://127.0.0.1:${listening.port}`, calls, close: listening.close };
}
