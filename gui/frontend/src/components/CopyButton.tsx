import { useState } from 'react';

// Copies text to the clipboard; falls back to selecting a hidden textarea
// where the Clipboard API is unavailable (plain http on a LAN address).
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const copy = async () => {
    try {
      if (navigator.clipboard?.writeText) {
        await navigator.clipboard.writeText(text);
      } else {
        const area = document.createElement('textarea');
        area.value = text;
        document.body.appendChild(area);
        area.select();
        const ok = document.execCommand('copy');
        area.remove();
        if (!ok) throw new Error('copy refused');
      }
      setDone('copied');
    } catch {
      setDone('failed');
    }
  };
  return (
    <>
      <button type="button" className="btn" onClick={copy}>
        {label}
      </button>
      <span role="status" className="copy-status">
        {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed — select the text and copy it' : ''}
      </span>
    </>
  );
}
