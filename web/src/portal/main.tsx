/** Entry of the user portal (web/index.html). */
import { render } from 'preact';
import '../shared/base.css';
import './portal.css';
import { App } from './app.tsx';

render(<App />, document.getElementById('app')!);
