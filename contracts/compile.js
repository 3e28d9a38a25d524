#!/usr/bin/env node
// Compiles contracts/src/**/*.sol with the pinned solc (package.json) into
// src/ogpu/devnet/artifacts/<Contract>.json.
//
//   node compile.js           write the artifacts
//   node compile.js --check   compile in memory; exit 1 naming every artifact
//                             that differs from (or is missing in) the tree
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = __dirname;
const SRC_DIR = path.join(ROOT, 'src');
const OUT_DIR = path.join(ROOT, '..', 'src', 'ogpu', 'devnet', 'artifacts');

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
  const files = listSources(SRC_DIR)
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
  const artifacts = {};
  for (const file of Object.keys(output.contracts).sort()) {
    for (const [name, c] of Object.entries(output.contracts[file])) {
      if (!c.evm.bytecode.object) {
        continue; // abstract contracts and interfaces
      }
      if (artifacts[name]) {
        throw new Error(`duplicate contract name ${name}`);
      }
      const artifact = sortKeys({
        contractName: name,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        compiler: { version, settings: SETTINGS },
      });
      artifacts[name] = JSON.stringify(artifact, null, 2) + '\n';
    }
  }
  return artifacts;
}

function existingArtifacts() {
  if (!fs.existsSync(OUT_DIR)) {
    return [];
  }
  return fs
    .readdirSync(OUT_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function main() {
  const check = process.argv.includes('--check');
  const artifacts = compile();
  const names = Object.keys(artifacts).sort();
  const stale = existingArtifacts().filter((n) => !(n in artifacts));

  if (check) {
    const differing = names.filter((n) => {
      const file = path.join(OUT_DIR, `${n}.json`);
      return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== artifacts[n];
    });
    const bad = [...differing, ...stale].sort();
    if (bad.length) {
      process.stderr.write(
        `artifacts out of date (run \`make contracts\`): ${bad.map((n) => `${n}.json`).join(', ')}\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`${names.length} artifacts up to date (solc ${solc.version()})\n`);
    return;
  }

  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const n of stale) {
    fs.unlinkSync(path.join(OUT_DIR, `${n}.json`));
  }
  for (const n of names) {
    fs.writeFileSync(path.join(OUT_DIR, `${n}.json`), artifacts[n]);
  }
  process.stdout.write(`wrote ${names.length} artifacts (solc ${solc.version()})\n`);
}

main();
