import { generate } from 'selfsigned';

/**
 * A certificate for 127.0.0.1 and localhost, made at start so no key is ever committed. The SDKs
 * refuse bearer tokens over plain http, so the simulator serves https and clients trust this
 * certificate explicitly (it is its own CA).
 */
export async function generateSimulatorCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const pems = await generate([{ name: 'commonName', value: 'jit-broker azure simulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
