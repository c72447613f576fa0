/** Entry of the admin console (web/admin/index.html). */
import { render } from 'preact';
import '../shared/base.css';
import './admin.css';
import { App } from './app.tsx';

render(<App />, document.getElementById('app')!);
