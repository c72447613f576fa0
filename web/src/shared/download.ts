/** Saves a launch file the API sent (`.rdp`, `.vnc`, `.dcv`) under its own name and type. */
export function downloadFile(file: {
  readonly name: string;
  readonly contentType: string;
  readonly content: string;
}): void {
  const url = URL.createObjectURL(new Blob([file.content], { type: file.contentType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the browser time to start the download before the object URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
