/**
 * Wrist actigraphy: raw tri-axial accelerometer files (generic CSV, ActiGraph CSV, GENEActiv
 * CSV, Axivity .cwa, ActiGraph .gt3x, GENEActiv .bin) read in streaming chunks → per-epoch ZCM, PIM, TAT, ActiGraph counts,
 * non-wear and sleep/wake. Browser-safe: no Node APIs; file I/O lives in src/io/actigraphy-node.ts
 * and the `moodlens actigraphy` command.
 *
 *   const reader = new AutoReader({ name: 'a.cwa' });
 *   const pipe = new ActigraphyPipeline({ channels: ['zcm', 'pim'] });
 *   for (const bytes of chunks) rows.push(...pipe.push(reader.push(bytes)));
 *   rows.push(...pipe.push(reader.end()), ...pipe.end());
 *
 * Any format, .gt3x included (a ZIP archive, read through its directory), from a random-access
 * source (`bytesSource(u8)`, `blobSource(file)`, or the Node file source in src/io):
 *
 *   const r = await openAccel(blobSource(file), { name: file.name });
 *   for await (const c of r.chunks()) rows.push(...pipe.push(c));
 *   rows.push(...pipe.end());
 */
export * from './types.js';
export * from './butterworth.js';
export * from './agcounts.js';
export * from './sleep.js';
export * from './nonwear.js';
export * from './epochs.js';
export * from './detect.js';
export { CsvAccelReader } from './read-csv.js';
export { ActiGraphCsvReader, parseDateWithFormat } from './read-actigraph.js';
export { GeneActivCsvReader } from './read-geneactiv.js';
export { CwaReader, cwaRate, cwaTimestamp, CWA_BLOCK } from './read-cwa.js';
export { GeneActivBinReader } from './read-geneactiv-bin.js';
export { openGt3x, Gt3xLogDecoder, NhanesActivityDecoder, parseGt3xInfo, parseGt3xZone, ticksToSeconds, decodeParamFloat } from './read-gt3x.js';
export { bytesSource, blobSource, isZip, zipEntries, zipEntryChunks, zipEntryBytes, type ByteSource, type ZipEntry } from './zip.js';
export { TimestampParser, ZoneClock, parseOffset, checkZone, type Zone } from './time.js';
export { LineSplitter } from './lines.js';
