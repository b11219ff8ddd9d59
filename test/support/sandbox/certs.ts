/**
 * Throwaway PKI for the sandbox API server, minted with the `openssl` CLI (Node cannot issue X.509).
 * EC P-256 keys: accepted by both Go (kubectl) and Node (client-node) TLS stacks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A CA, a server cert (SAN IP:127.0.0.1 + DNS:localhost, EKU serverAuth) and a client cert, as PEM text. */
export interface TestPki {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** client cert: CN=sandbox-user, O=system:masters, EKU clientAuth */
  clientCertPem: string;
  clientKeyPem: string;
}

/** Mints a fresh, independent PKI (in a temp dir, removed once the PEMs are read). */
export async function mintPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-sandbox-pki-'));
  try {
    return await mint(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function mint(dir: string): Promise<TestPki> {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  await ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3', '-subj', '/CN=k8s-sandbox-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature');
  // Leaf certs: CSR, then sign with the CA applying an extension file (portable across OpenSSL 1.1/3).
  const leaf = async (name: string, subj: string, ext: string) => {
    await writeFile(f(`${name}.ext`), ext);
    await ssl('req', '-new', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subj);
    await ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  };
  await leaf('server', '/CN=k8s-sandbox-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await leaf('client', '/O=system:masters/CN=sandbox-user',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');

  const read = (name: string) => readFile(f(name), 'utf8');
  return { caPem: await read('ca.crt'), serverCertPem: await read('server.crt'), serverKeyPem: await read('server.key'),
    clientCertPem: await read('client.crt'), clientKeyPem: await read('client.key') };
}

let cached: Promise<TestPki> | undefined;

/** The per-process PKI shared by all sandboxes (minting costs ~100 ms of openssl runs). */
export function testPki(): Promise<TestPki> {
  cached ??= mintPki();
  return cached;
}
