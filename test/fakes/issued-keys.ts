/**
 * Keys the fake credential sources (ECS, IMDS, STS, SSO) have handed out, with their secrets. The
 * fake ECR verifies a signature made with any of them and refuses keys nobody issued, so a test
 * that a credential source works proves the call was signed with that source's secret.
 */
const issued = new Map<string, string>();

export function recordIssuedKey(accessKeyId: string, secretAccessKey: string): void {
  issued.set(accessKeyId, secretAccessKey);
}

export function issuedSecret(accessKeyId: string): string | undefined {
  return issued.get(accessKeyId);
}
