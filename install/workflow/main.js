// promptreel's panel docked in DaVinci Resolve Studio (Workspace > Workflow Integrations > promptreel).
// An Electron main process that only opens the panel the promptreel worker serves on 127.0.0.1: it
// reads the worker's session file (port and token, readable by this user only), trades the token for
// a one-time sign-in link (the token never goes into a URL) and loads that link. With no worker
// running it starts `promptreel resolve panel` and waits for its session file.
'use strict';
const { app, BrowserWindow } = require('electron');
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'promptreel.json'), 'utf8'));
const WAIT_MS = 30000;

function session() {
  try { return JSON.parse(fs.readFileSync(config.session, 'utf8')); } catch (e) { return null; }
}

function signInLink(s) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, path: '/api/sign-in-link', method: 'POST',
      headers: { 'X-Promptreel-Token': s.token, 'Content-Type': 'application/json', 'Content-Length': 2 } }, res => {
      let body = '';
      res.on('data', d => { body += d; });
      res.on('end', () => {
        try { res.statusCode === 200 ? resolve(JSON.parse(body).url) : reject(new Error(body)); } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    req.end('{}');
  });
}

async function panelLink() {
  const first = session();
  if (first) { try { return await signInLink(first); } catch (e) { /* stale: the worker is gone */ } }
  const worker = spawn(config.python, ['-m', 'promptreel.core.cli', 'resolve', 'panel', '--no-browser'],
    { detached: true, stdio: 'ignore', env: { ...process.env, PROMPTREEL_NO_BROWSER: '1' } });
  worker.unref();
  const until = Date.now() + WAIT_MS;
  while (Date.now() < until) {
    await new Promise(r => setTimeout(r, 250));
    const s = session();
    if (s && (!first || s.token !== first.token)) { try { return await signInLink(s); } catch (e) { /* not up yet */ } }
  }
  throw new Error('The promptreel panel did not start. Run `promptreel doctor` in a terminal.');
}

async function open() {
  const win = new BrowserWindow({ width: 1100, height: 800, title: 'promptreel', webPreferences: { contextIsolation: true } });
  try { await win.loadURL(await panelLink()); }
  catch (e) { await win.loadURL('data:text/plain;charset=utf-8,' + encodeURIComponent(String(e.message || e))); }
}

app.whenReady().then(open);
app.on('window-all-closed', () => app.quit());
