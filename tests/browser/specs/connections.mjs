// Connections: the masked list, a test of a stored connection, the edit form, and the admin's export
// download, byte for byte what `mayaflow connections export` writes for the same home. An Op sees no
// export and the API refuses it to them.
import fs from 'node:fs';

export default [
  {
    name: 'connections: masked list, test, edit form, export equals the CLI',
    timeoutMs: 45000,
    async run(t) {
      const { page, guard } = await t.context('admin', { allowExport: true, acceptDownloads: true });
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.admin, '#/connections');
      const rows = page.locator(hook('connection-row'));
      await waitFor(async () => (await rows.count()) === 3, { what: 'three connection rows' });
      const warehouse = page.locator(`${hook('connection-row')}[data-connection-id="warehouse"]`);
      const text = await warehouse.innerText();
      if (!text.includes('db.internal') || !text.includes('postgres')) throw new Error(`the warehouse row shows '${text}'`);
      await t.shoot(page, guard, '20-connections');

      await page.locator(`${hook('connection-row')}[data-connection-id="local_files"] ${hook('connection-test')}`).click();
      const result = page.locator(hook('connection-test-result'));
      await result.waitFor();
      if ((await result.getAttribute('data-ok')) !== 'true') throw new Error(`testing local_files failed: ${await result.innerText()}`);

      await warehouse.locator(hook('connection-edit')).click();
      const dialog = page.locator(hook('connection-dialog'));
      await dialog.waitFor();
      const extra = await dialog.locator(hook('connection-extra')).inputValue();
      if (!extra.includes('"***"')) throw new Error(`the edit form's extra is not masked: ${extra}`);
      if (await dialog.locator(hook('connection-password')).inputValue()) throw new Error('the edit form holds a password');
      await t.shoot(page, guard, '21-connection-edit');
      // Change the port only: the stored password and extra token must survive (checked in the export).
      await dialog.locator(hook('connection-port')).fill('6543');
      await dialog.locator(hook('connection-save')).click();
      await dialog.waitFor({ state: 'detached' });
      await waitFor(async () => (await warehouse.innerText()).includes('6543'), { what: 'the new port in the list' });

      for (const format of ['json', 'yaml', 'env']) {
        const [download] = await Promise.all([
          page.waitForEvent('download', { timeout: 15000 }),
          page.locator(hook(`connection-export-${format}`)).click(),
        ]);
        if (download.suggestedFilename() !== `connections.${format}`) throw new Error(`the ${format} download is named ${download.suggestedFilename()}`);
        const file = `${t.out}/connections-export.${format}`;
        await download.saveAs(file);
        const got = fs.readFileSync(file, 'utf8');
        const cli = t.daemon.cli('connections', 'export', '-', '--file-format', format);
        if (got !== cli) throw new Error(`the ${format} download differs from the CLI's export:\n--- page\n${got}\n--- cli\n${cli}`);
        for (const secret of [t.fixture.warehousePassword, t.fixture.warehouseToken, t.fixture.webhookPassword]) {
          if (!got.includes(secret)) throw new Error(`the ${format} export lacks a secret it should carry (was it overwritten by the edit?)`);
        }
        fs.rmSync(file); // the export holds the fixture's secrets: keep no copy in the output folder
      }
    },
  },
  {
    name: 'connections: an Op manages them but has no export, and the API refuses it',
    timeoutMs: 30000,
    async run(t) {
      const { page, guard } = await t.context('op');
      const { hook, waitFor } = t.ui;
      await t.ui.signIn(page, t.fixture.op, '#/connections');
      await waitFor(async () => (await page.locator(hook('connection-row')).count()) === 3, { what: 'three connection rows' });
      if (await page.locator(hook('connection-export')).count()) throw new Error('an Op is offered the export');
      if (!(await page.locator(hook('connection-add')).count())) throw new Error('an Op is not offered to add a connection');
      guard.expect(403, '/api/v1/mayaflow/connections/export', 'GET');
      const answer = await t.ui.fetchInPage(page, 'GET', '/api/v1/mayaflow/connections/export?file_format=json');
      if (answer.status !== 403) throw new Error(`the export answered an Op ${answer.status}`);
      await t.shoot(page, guard, '22-connections-op');
    },
  },
];
