// `gatehouse fga test FILE.fga.yaml`, the binary itself: every OpenFGA sample store file passes, and
// a store file with a wrong expectation fails with a non-zero exit naming the assertion.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binary, repoRoot } from '../lib/gatehouse.mjs';

const samples = path.resolve(repoRoot, '..', 'shared', 'testdata', 'openfga', 'sample-stores');

function storeFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...storeFiles(p));
    else if (name.endsWith('.fga.yaml')) out.push(p);
  }
  return out.sort();
}

const fgaTest = (...files) => spawnSync(binary, ['fga', 'test', ...files], { encoding: 'utf8' });

describe('gatehouse fga test', () => {
  test('every sample store file passes', { skip: !existsSync(samples) && `no ${samples}` }, () => {
    const files = storeFiles(samples);
    assert.ok(files.length >= 32, `found ${files.length} store files`);
    let checks = 0;
    for (const f of files) {
      const r = fgaTest(f);
      assert.equal(r.status, 0, `${f}\n${r.stdout}\n${r.stderr}`);
      for (const m of r.stdout.matchAll(/(?:Checks|ListObjects|ListUsers) (\d+)\/(\d+) passing/g)) {
        assert.equal(m[1], m[2], `${f}: ${m[0]}`);
        checks += Number(m[2]);
      }
    }
    assert.ok(checks >= 363, `ran ${checks} assertions`);
  });

  test('a wrong expectation fails with a non-zero exit; a broken model is an error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-fga-'));
    writeFileSync(path.join(dir, 'model.fga'), 'model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user]\n');
    const store = path.join(dir, 'store.fga.yaml');
    writeFileSync(store, `model_file: ./model.fga
tuples:
  - user: user:anne
    relation: viewer
    object: doc:1
tests:
  - name: viewers
    check:
      - user: user:anne
        object: doc:1
        assertions:
          viewer: true
      - user: user:bob
        object: doc:1
        assertions:
          viewer: true
`);
    const r = fgaTest(store);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /Checks 1\/2 passing/);
    assert.match(r.stdout + r.stderr, /user:bob/);

    const broken = path.join(dir, 'broken.fga.yaml');
    writeFileSync(broken, 'model: |\n  model\n    schema 1.1\n  type doc\n    relations\n      define viewer: [usr]\n'
      + 'tests:\n  - name: t\n    check:\n      - user: usr:a\n        object: doc:1\n        assertions:\n          viewer: true\n');
    const b = fgaTest(broken);
    assert.notEqual(b.status, 0);
    assert.match(b.stdout + b.stderr, /usr/);
  });
});
