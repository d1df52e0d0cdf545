// Shrinks the browser tests' screenshots into docs/images/ for docs/getting-started.md:
// each picked page is cropped and scaled in headless Chromium (no image library needed),
// then squeezed with pngquant when it is installed. Run by scripts/docs-screenshots.sh.
// Usage: node scripts/docs-images.mjs SHOTS_DIR [OUT_DIR]
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const shots = resolve(process.argv[2] ?? '/tmp/gs-shots');
const out = resolve(process.argv[3] ?? 'docs/images');

// source screenshot, output name, crop (px of the source: top, negative = from the bottom; height, null = to the end), output width.
const PICKS = [
  { src: 'setup-form-desktop.png', out: 'gs-1-new-study.png', top: 0, height: 1943, width: 560 },
  { src: 'setup-study-desktop.png', out: 'gs-2-invite.png', top: 0, height: 1180, width: 640 },
  { src: 'app-consent-phone.png', out: 'gs-3-consent.png', top: 0, height: 720, width: 300 },
  { src: 'app-items-untouched-online-phone.png', out: 'gs-4-items.png', top: 0, height: 750, width: 300 },
  // the participant's section is the end of that page (above it, the audit log grows from run to run)
  { src: 'setup-participant-desktop.png', out: 'gs-5-participant.png', top: -1489, height: 1489, width: 640 },
  { src: 'dashboard-trajectories-desktop.png', out: 'gs-6-trajectories.png', top: 0, height: null, width: 640 },
  { src: 'dashboard-evaluation-desktop.png', out: 'gs-7-evaluation.png', top: 0, height: null, width: 400 },
];

/** Width and height of a PNG from its IHDR chunk. */
function pngSize(file) {
  const b = readFileSync(file);
  return { w: b.readUInt32BE(16), h: b.readUInt32BE(20) };
}

const browser = await chromium.launch({
  executablePath: process.env.MOODLENS_CHROMIUM ?? '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  for (const p of PICKS) {
    const src = join(shots, p.src);
    const { w, h } = pngSize(src);
    const top = Math.max(0, Math.min(p.top < 0 ? h + p.top : p.top, h - 1));
    const height = Math.min(p.height ?? h, h - top);
    const scale = Math.min(1, p.width / w);
    const W = Math.round(w * scale), H = Math.round(height * scale);
    await page.setViewportSize({ width: W, height: H });
    const data = readFileSync(src).toString('base64');
    await page.setContent(`<html><body style="margin:0;overflow:hidden"><div style="width:${W}px;height:${H}px;overflow:hidden">` +
      `<img style="display:block;width:${W}px;margin-top:${-Math.round(top * scale)}px" src="data:image/png;base64,${data}"></div></body></html>`);
    await page.locator('img').evaluate((img) => img.decode());
    const file = join(out, p.out);
    await page.screenshot({ path: file, clip: { x: 0, y: 0, width: W, height: H } });
    try { execFileSync('pngquant', ['--force', '--skip-if-larger', '--quality', '60-85', '--output', file, file], { stdio: 'ignore' }); } catch { /* pngquant absent or no gain: keep Chromium's PNG */ }
    console.log(`${file}: ${W}×${H}, ${Math.round(statSync(file).size / 1024)} kB`);
  }
} finally {
  await browser.close();
}
