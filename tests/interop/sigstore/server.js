// A loopback Sigstore instance for provost's interop tests: Fulcio, a CT log, Rekor v1 and an
// RFC 3161 timestamp authority from @sigstore/mock, served over HTTP on 127.0.0.1.
// Usage: node server.js OUTDIR — writes OUTDIR/trusted_root.json, signing_config.json and
// trust_config.json (sigstore-python's client trust config), then prints "READY <url>".
//
// Glue between real clients and the mock (the mock's handlers expect sigstore-js requests):
// - Fulcio: the OIDC token arrives as "Authorization: Bearer" (the mock reads it from
//   credentials.oidcIdentityToken) and the CSR base64-encoded (the mock wants PEM);
// - Rekor: DSSE entries are logged in Rekor's canonical form (see canonicalEntry);
// - TSA: RFC 3161 clients send a DER TimeStampReq (the mock takes JSON); the nonce is copied
//   as sent, since a 64-bit nonce does not fit a JavaScript number.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const asn1js = require('asn1js');
const pkijs = require('pkijs');
const mock = require('@sigstore/mock');

const outDir = process.argv[2];
const b64 = (b) => Buffer.from(b).toString('base64');
const keyPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const validFor = { start: '2000-01-01T00:00:00Z' };

function derTimestampRequest(body) {
  const req = pkijs.TimeStampReq.fromBER(new Uint8Array(body).buffer);
  return {
    request: {
      artifactHash: Buffer.from(req.messageImprint.hashedMessage.valueBlock.valueHexView),
      hashAlgorithmOID: req.messageImprint.hashAlgorithm.algorithmId,
      nonce: 0,
      policyOID: req.reqPolicy || '1.3.6.1.4.1.57264.2',
      certReq: req.certReq || false,
    },
    nonce: req.nonce,
  };
}

// Rekor stores a DSSE entry in canonical form (hashes of the envelope and payload, and the
// signatures with their verifiers), which is what verifiers rebuild and compare; the mock logs
// the proposal as sent.
function canonicalEntry(entry) {
  if (entry.kind !== 'dsse' || !entry.spec || !entry.spec.proposedContent) return entry;
  const { envelope, verifiers } = entry.spec.proposedContent;
  const env = JSON.parse(envelope);
  const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
  return {
    apiVersion: entry.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((sig, i) => ({
        signature: sig.sig,
        verifier: verifiers[i] || verifiers[0],
      })),
    },
  };
}

async function main() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  const ctlog = await mock.initializeCTLog(keyPair());
  const ca = await mock.initializeCA(keyPair(), ctlog);
  const tlog = await mock.initializeTLog(url, keyPair());
  const tsa = await mock.initializeTSA(keyPair());
  const fulcio = mock.fulcioHandler(ca);
  const rekor = mock.rekorHandler(tlog);
  const stamp = mock.tsaHandler(tsa);

  // The nonce of a DER request is put back as sent (see above).
  const tstInfo = tsa.tstInfo.bind(tsa);
  let pendingNonce = null;
  tsa.tstInfo = (req) => {
    const info = tstInfo(req);
    if (pendingNonce) {
      info.nonce = pendingNonce;
      // DER GeneralizedTime without fractional seconds, which strict DER decoders refuse.
      info.genTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    }
    return info;
  };

  server.on('request', (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      let result;
      try {
        if (req.method === 'POST' && req.url === fulcio.path) {
          const json = JSON.parse(body.toString());
          const auth = req.headers.authorization || '';
          if (!json.credentials && auth.startsWith('Bearer ')) {
            json.credentials = { oidcIdentityToken: auth.slice(7) };
          }
          const csr = json.certificateSigningRequest;
          if (csr && !csr.startsWith('-----')) {
            json.certificateSigningRequest = Buffer.from(csr, 'base64').toString();
          }
          result = await fulcio.fn(JSON.stringify(json));
        } else if (req.method === 'POST' && req.url === rekor.path) {
          result = await rekor.fn(JSON.stringify(canonicalEntry(JSON.parse(body.toString()))));
        } else if (req.method === 'POST' && req.url === stamp.path) {
          if ((req.headers['content-type'] || '').includes('timestamp-query')) {
            const { request, nonce } = derTimestampRequest(body);
            pendingNonce = nonce || null;
            try {
              const der = await tsa.timestamp(request);
              result = { statusCode: 200, response: der, contentType: 'application/timestamp-reply' };
            } finally {
              pendingNonce = null;
            }
          } else {
            result = await stamp.fn(body.toString());
          }
        } else {
          result = { statusCode: 404, response: 'not found' };
        }
      } catch (e) {
        result = { statusCode: 400, response: String(e && e.message) };
      }
      res.writeHead(result.statusCode, { 'Content-Type': result.contentType || 'text/plain' });
      res.end(result.response);
    });
  });

  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: b64(crypto.createHash('sha256').update(tlog.publicKey).digest()) },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'fulcio' },
      uri: url,
      certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
      validFor,
    }],
    ctlogs: [{
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: b64(ctlog.logID) },
    }],
    timestampAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'tsa' },
      uri: url,
      certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
      validFor,
    }],
  };
  const service = (u) => ({ url: u, majorApiVersion: 1, validFor, operator: 'sigstore.mock' });
  const signingConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(url)],
    oidcUrls: [],
    rekorTlogUrls: [service(url)],
    tsaUrls: [],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
  const write = (name, v) => fs.writeFileSync(path.join(outDir, name), JSON.stringify(v, null, 2));
  write('trusted_root.json', trustedRoot);
  write('signing_config.json', signingConfig);
  write('trust_config.json', {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot,
    signingConfig,
  });
  process.stdout.write(`READY ${url}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack}\n`);
  process.exit(1);
});
