import { useRef } from 'react';

/**
 * An email as a mail client shows it: its HTML in the server's message frame (/admin/message-frame),
 * whose own policy allows the message's inline styles and nothing else, sandboxed without
 * same-origin. The console posts the HTML to the frame once it has loaded; a new message gets a new
 * frame (the `key`), since a frame becomes its message.
 */
export function MessageFrame({ html, title }: { html: string; title: string }) {
  return <Frame key={html} html={html} title={title} />;
}

function Frame({ html, title }: { html: string; title: string }) {
  const posted = useRef(false);
  return (
    <iframe
      title={title}
      src="/admin/message-frame"
      sandbox="allow-scripts"
      className="preview"
      onLoad={(e) => {
        // Once: a later load is a link followed inside the frame, not the frame waiting for its message.
        if (posted.current) return;
        posted.current = true;
        e.currentTarget.contentWindow?.postMessage(html, '*');
      }}
    />
  );
}
