import { startInfluxDB, type InfluxServer } from './influxdb.js';

let influx: InfluxServer;
beforeAll(async () => {
  influx = await startInfluxDB();
}, 120_000);
afterAll(() => influx?.close());

test('a real influxd answers on 127.0.0.1: create a database, write a point, read it back', async () => {
  expect((await influx.query('CREATE DATABASE t')).results[0]!.error).toBeUndefined();
  const res = await fetch(`${influx.url}/write?db=t&precision=ms`, { method: 'POST', body: 'm,k=v value=1.5 1000' });
  expect(res.status).toBe(204);
  const got = await influx.query('SELECT value FROM m GROUP BY k', 't');
  expect(got.results[0]!.series).toEqual([{ name: 'm', tags: { k: 'v' }, columns: ['time', 'value'], values: [[1000, 1.5]] }]);
});
