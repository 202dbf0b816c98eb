// serve.js DIR PORT KEYS_FILE [TLS_KEY TLS_CERT] — s3rver on 127.0.0.1:PORT storing in DIR, with one
// bucket "backups" and the key pair of KEYS_FILE (access key id on its first line, the
// secret on its second) instead of s3rver's fixed S3RVER/S3RVER, so that a test can
// look for the keys where they must not be (argv, logs). Started and stopped by
// tests/integration/t_backups.sh. With TLS: restic's S3 client (minio-go) signs plain-http
// uploads as aws-chunked streams, which s3rver stores undecoded.
'use strict';
const fs = require('fs');
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [dir, port, keysFile, keyPem, certPem] = process.argv.slice(2);
const [id, secret] = fs.readFileSync(keysFile, 'utf8').split('\n');
DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
DUMMY_ACCOUNT.createKeyPair(id, secret);
new S3rver({
  directory: dir,
  address: '127.0.0.1',
  port: Number(port),
  silent: true,
  key: keyPem ? fs.readFileSync(keyPem) : undefined,
  cert: certPem ? fs.readFileSync(certPem) : undefined,
  configureBuckets: [{ name: 'backups', configs: [] }],
})
  .run()
  .then(({ address, port: p }) => console.log('s3rver listening on %s:%d', address, p))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
