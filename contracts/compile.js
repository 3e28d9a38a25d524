#!/usr/bin/env node
// Compiles contracts/src/**/*.sol with the pinned solc (package.json) into
// src/ogpu/devnet/artifacts/<Contract>.json, and the test fixtures in
// contracts/test/**/*.sol (which may import ../src) into
// tests/fixtures/artifacts/<Contract>.json (not shipped in the package).
//
//   node compile.js           write the artifacts
//   node compile.js --check   compile in memory; exit 1 naming every artifact
//                             that differs from (or is missing in) the tree
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = __dirname;
// Source folder (under contracts/) -> artifact folder.
const TARGETS = [
  { src: 'src', out: path.join(ROOT, '..', 'src', 'ogpu', 'devnet', 'artifacts') },
  { src: 'test', out: path.join(ROOT, '..', 'tests', 'fixtures', 'artifacts') },
];

const SETTINGS = {
  evmVersion: 'shanghai', // highest fork ganache 7.9.2 runs
  metadata: { bytecodeHash: 'none' },
  optimizer: { enabled: true, runs: 200 },
};

function listSources(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      found.push(...listSources(full));
    } else if (entry.name.endsWith('.sol')) {
      found.push(full);
    }
  }
  return found;
}

function sortKeys(value) {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys(value[key]);
    }
    return out;
  }
  return value;
}

function compile() {
  const sources = {};
  const files = TARGETS.filter((t) => fs.existsSync(path.join(ROOT, t.src)))
    .flatMap((t) => listSources(path.join(ROOT, t.src)))
    .map((f) => path.relative(ROOT, f).split(path.sep).join('/'))
    .sort();
  for (const name of files) {
    sources[name] = { content: fs.readFileSync(path.join(ROOT, name), 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      ...SETTINGS,
      outputSelection: {
        '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = output.errors || [];
  for (const p of problems) {
    process.stderr.write(p.formattedMessage || p.message);
  }
  if (problems.some((p) => p.severity === 'error')) {
    process.exit(2);
  }

  const version = solc.version();
  const artifacts = Object.fromEntries(TARGETS.map((t) => [t.src, {}]));
  for (const file of Object.keys(output.contracts).sort()) {
    const folder = artifacts[file.split('/')[0]];
    for (const [name, c] of Object.entries(output.contracts[file])) {
      if (!c.evm.bytecode.object || c.abi.length === 0) {
        continue; // abstract contracts, interfaces, internal-only libraries
      }
      if (artifacts.src[name] || artifacts.test[name]) {
        throw new Error(`duplicate contract name ${name}`);
      }
      const artifact = sortKeys({
        contractName: name,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        compiler: { version, settings: SETTINGS },
      });
      folder[name] = JSON.stringify(artifact, null, 2) + '\n';
    }
  }
  return artifacts;
}

function existingArtifacts(outDir) {
  if (!fs.existsSync(outDir)) {
    return [];
  }
  return fs
    .readdirSync(outDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function main() {
  const check = process.argv.includes('--check');
  const compiled = compile();
  const bad = [];
  let total = 0;
  for (const { src, out } of TARGETS) {
    const artifacts = compiled[src];
    const names = Object.keys(artifacts).sort();
    const stale = existingArtifacts(out).filter((n) => !(n in artifacts));
    const shown = (n) => path.relative(path.join(ROOT, '..'), path.join(out, `${n}.json`));
    total += names.length;
    if (check) {
      const differing = names.filter((n) => {
        const file = path.join(out, `${n}.json`);
        return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== artifacts[n];
      });
      bad.push(...[...differing, ...stale].sort().map(shown));
      continue;
    }
    fs.mkdirSync(out, { recursive: true });
    for (const n of stale) {
      fs.unlinkSync(path.join(out, `${n}.json`));
    }
    for (const n of names) {
      fs.writeFileSync(path.join(out, `${n}.json`), artifacts[n]);
    }
  }
  if (!check) {
    process.stdout.write(`wrote ${total} artifacts (solc ${solc.version()})\n`);
    return;
  }
  if (bad.length) {
    process.stderr.write(`artifacts out of date (run \`make contracts\`): ${bad.join(', ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`${total} artifacts up to date (solc ${solc.version()})\n`);
}

main();
