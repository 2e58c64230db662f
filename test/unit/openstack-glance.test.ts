import { afterEach, describe, expect, it } from 'vitest';
import { isEvacuableImage } from '../../lib/openstack/glance';
import { fakeCloud, type FakeCloud } from '../fake/harness';

describe('Glance client', () => {
  let fc: FakeCloud | undefined;
  afterEach(async () => { await fc?.close(); fc = undefined; });

  it('recognises the tag and the property, in any case', () => {
    expect(isEvacuableImage({ id: 'a', tags: ['x', 'Evacuable'] })).toBe(true);
    expect(isEvacuableImage({ id: 'a', tags: [], evacuable: ' true ' })).toBe(true);
    expect(isEvacuableImage({ id: 'a', tags: [], evacuable: 'yes' })).toBe(false);
    expect(isEvacuableImage({ id: 'a', tags: ['evacuable=false'] })).toBe(false);
    expect(isEvacuableImage({ id: 'a' })).toBe(false);
  });

  it('lists every page of images', async () => {
    fc = await fakeCloud({ pageSize: 4 });
    const st = fc.fake.state;
    const want = st.images.filter((i) => i.name.includes('evacuable')).map((i) => i.id);
    for (let i = 0; i < 10; i++) {
      const img = st.addImage({ name: `img-${i}`, ...(i % 3 === 0 ? { tags: ['evacuable'] } : {}), ...(i === 5 ? { properties: { evacuable: 'TRUE' } } : {}) });
      if (i % 3 === 0 || i === 5) want.push(img.id);
    }
    const ids = await fc.cloud.images().evacuableImageIds();
    expect([...ids].sort()).toEqual(want.sort());
    const pages = st.requestsTo('GET', /^\/image\/v2\/images$/);
    expect(pages).toHaveLength(4); // 13 images, 4 per page: 4 + 4 + 4 + 1
    expect(new URLSearchParams(pages[0].query).get('limit')).toBe('1000');
    expect(new URLSearchParams(pages[1].query).get('marker')).toBeTruthy();
  });
});
