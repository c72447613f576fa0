/** Entry of the HTML5 desktop page (web/desktop/index.html). */
import { render } from 'preact';
import '../shared/base.css';
import './desktop.css';
import { DesktopPage } from './desktop-page.tsx';

render(<DesktopPage />, document.getElementById('app')!);
