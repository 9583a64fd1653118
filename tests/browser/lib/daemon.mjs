// Starts the real mayaflow daemon (`mayaflow standalone`) on a temporary MAYAFLOW_HOME and a free
// 127.0.0.1 port, as tests/integration/daemon.py does, and talks to it as the admin.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MAYAFLOW = process.env.MAYAFLOW_BIN || path.join(REPO, 'build-sanitize', 'mayaflow');

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `predicate` (sync or async) until it returns something truthy; throws `what` after `timeoutMs`.
export async function waitFor(predicate, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not met within ${timeoutMs / 1000} s${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export class Daemon {
  // `binary`: the mayaflow to start (MAYAFLOW_BIN at import time by default).
  constructor(dagsFolder, binary = MAYAFLOW) {
    this.binary = binary;
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'mayaflow-browser-'));
    this.dags = path.join(this.home, 'dags');
    fs.cpSync(dagsFolder, this.dags, { recursive: true });
    this.logPath = path.join(this.home, 'daemon.log');
    this.env = {
      ...process.env,
      MAYAFLOW_HOME: this.home,
      MAYAFLOW_DAG_SCAN_INTERVAL: '200ms',
      MAYAFLOW_SHUTDOWN_GRACE_PERIOD: '5s',
    };
    this.process = null;
    this.port = null;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 60000) {
    const log = fs.openSync(this.logPath, 'a');
    this.process = spawn(this.binary, ['standalone', '--dags-folder', this.dags, '--port', '0'], {
      env: this.env,
      stdio: ['ignore', 'pipe', log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => resolve({ code, signal }));
      this.process.on('error', () => resolve({ code: null, signal: null }));
    });
    let banner = '';
    this.port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon did not print its address within ${timeoutMs / 1000} s: ${banner}`)), timeoutMs);
      this.process.stdout.on('data', (chunk) => {
        banner += chunk.toString();
        const match = banner.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      this.process.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`could not start ${this.binary}: ${error.message}`));
      });
      this.process.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code}) before serving: ${banner}\n${this.readLog()}`));
      });
    });
    this.process.stdout.resume();
    await waitFor(async () => (await this.health()).dag_processor?.dag_folder_loaded, {
      timeoutMs, what: 'the daemon loading its DAG folder',
    });
    return this;
  }

  async health() {
    const response = await fetch(`${this.base}/health`, { signal: AbortSignal.timeout(5000) });
    return response.json();
  }

  readLog() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  adminPassword() {
    return fs.readFileSync(path.join(this.home, 'standalone_admin_password.txt'), 'utf8').trim();
  }

  basic(username = 'admin', password = this.adminPassword()) {
    return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  }

  // A request to the API as `auth` (the admin by default): {status, body (parsed JSON or text), headers}.
  async api(method, apiPath, body, { auth = this.basic(), timeoutMs = 40000 } = {}) {
    const headers = { Authorization: auth };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${this.base}${apiPath}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  // Like api(), but throws unless the status is one of `ok`.
  async apiOk(method, apiPath, body, ok = [200, 201, 204], options = {}) {
    const answer = await this.api(method, apiPath, body, options);
    if (!ok.includes(answer.status)) {
      throw new Error(`${method} ${apiPath} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  cli(...args) {
    const result = spawnSync(this.binary, args, { env: this.env, encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 });
    if (result.status !== 0) {
      const why = result.error ? result.error.message : result.signal ? `signal ${result.signal}` : `exit ${result.status}`;
      throw new Error(`mayaflow ${args.join(' ')} failed (${why}): ${result.stderr}`);
    }
    return result.stdout;
  }

  // Runs SQL on the daemon's database with the sqlite3 shell (used to seed BigQuery cost rows, which only a
  // BigQuery job would record otherwise).
  sql(statements) {
    const database = fs.readdirSync(this.home).find((name) => name.endsWith('.db'));
    if (!database) throw new Error(`no database in ${this.home}`);
    const result = spawnSync('sqlite3', ['-cmd', '.timeout 10000', path.join(this.home, database)], {
      input: statements, encoding: 'utf8', timeout: 30000,
    });
    if (result.status !== 0) throw new Error(`sqlite3 failed (${result.status}): ${result.stderr}`);
    return result.stdout;
  }

  // Stops the daemon (SIGTERM, then SIGKILL after 20 s); returns the sanitizer or crash reports of its log.
  async stop() {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 20000);
      const { code, signal } = await this.exited;
      clearTimeout(timer);
      this.exitStatus = signal ? `signal ${signal}` : `exit ${code}`;
    }
    const log = this.readLog();
    const problems = log.split('\n').filter((line) => /ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer/.test(line));
    if (this.exitStatus && this.exitStatus !== 'exit 0') problems.push(`the daemon ended with ${this.exitStatus}`);
    return problems;
  }

  cleanup(keep) {
    if (!keep) fs.rmSync(this.home, { recursive: true, force: true });
  }
}
