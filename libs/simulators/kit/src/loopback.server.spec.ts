import { request as httpsRequest } from 'node:https';
import { startLoopbackServer } from './loopback.server';
import { readBody } from './request-body';

describe(startLoopbackServer.name, () => {
  it('should refuse a host that is not one of its loopback names', async () => {
    await expect(startLoopbackServer({ name: 'Test', hosts: ['127.0.0.1'], host: '0.0.0.0' }, () => async () => {})).rejects.toThrow(
      'the Test simulator listens on loopback only (127.0.0.1)',
    );
  });

  it('should hand each request with its body to the handler and stop on close', async () => {
    const server = await startLoopbackServer({ name: 'Test', hosts: ['127.0.0.1'] }, () => async (req, res) => {
      const body = await readBody(req);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url} ${body}`);
    });
    expect(server.host).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${server.port}/x?y=1`, { method: 'POST', body: 'héllo' });
    expect(await res.text()).toBe('POST /x?y=1 héllo');
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });

  it('should drop the connection when the handler fails, instead of leaving the call hanging', async () => {
    const server = await startLoopbackServer({ name: 'Test', hosts: ['127.0.0.1'] }, () => async () => {
      throw new Error('handler bug');
    });
    try {
      await expect(fetch(`http://127.0.0.1:${server.port}/`)).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('should serve HTTPS with the certificate it is given', async () => {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'kit test' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const server = await startLoopbackServer({ name: 'Test', hosts: ['127.0.0.1'], tls: { keyPem: pems.private, certPem: pems.cert } }, () => async (_req, res) => {
      res.end('secure');
    });
    try {
      const text = await new Promise<string>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port: server.port, path: '/', ca: pems.cert }, (res) => {
          void readBody(res).then(resolve, reject);
        })
          .on('error', reject)
          .end();
      });
      expect(text).toBe('secure');
    } finally {
      await server.close();
    }
  });
});
