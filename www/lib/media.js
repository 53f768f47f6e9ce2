// What the listen and read text panels share: the message for a device the page cannot use, and
// files dropped on a panel.

/** Why `getUserMedia` failed, for people: `device` is 'microphone' or 'camera', `instead` what to do. */
export function deviceError(e, device, instead) {
  switch (e?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `${device[0].toUpperCase()}${device.slice(1)} permission was refused: allow the ${device} for this page, or ${instead}.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found on this device: ${instead}.`;
    case 'NotReadableError':
      return `The ${device} could not be started (another application may be using it).`;
    default:
      return `Could not use the ${device}: ${e?.message ?? e}`;
  }
}

/** Calls `take(file)` with the first file dropped on `panel`, outlined while a drag is over it. */
export function acceptDrops(panel, take) {
  panel.addEventListener('dragover', e => {
    e.preventDefault();
    panel.classList.add('dropping');
  });
  panel.addEventListener('dragleave', () => panel.classList.remove('dropping'));
  panel.addEventListener('drop', e => {
    e.preventDefault();
    panel.classList.remove('dropping');
    take(e.dataTransfer?.files?.[0]);
  });
}
